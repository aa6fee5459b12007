"""Slots in snippets that the user must fill: <podName>, <your-image-name>, $NAMESPACE, ${NS},
{{ .Values.image }}, and bare camelCase names such as podName or SecretName in a value's place. A key
(`claimName:`, `serviceName:` in YAML) is never a placeholder: filling it would corrupt the manifest. Nor is a
Go template that runs later (an Alertmanager `{{ template "slack.title" . }}`, `{{ range .Alerts }}`, a
Prometheus rule's `{{ $labels.instance }}`): in a snippet with template actions, no `{{ … }}` is a slot, and a
`{{ … }}` is one only when it names a value (`{{ .Values.image }}`)."""

from __future__ import annotations

import re

from assistant.knowledge.words import word_set

HTML_TAGS = word_set("html_tags")  # `<div>`, and kubectl's `<none>`: no slot to fill

PLACEHOLDER = re.compile(
    r"<(?P<angle>[A-Za-z][\w.-]*(?:[ _-][\w.-]+)*)>"
    r"|(?P<brace>\{\{-?\s*[^{}]+?\s*-?\}\})"
    r"|(?P<dollar>\$\{?[A-Z][A-Z0-9_]*\}?)"
    r"|(?<![\w/.=:-])(?P<camel>[a-z]+Name|[A-Z][a-z]+Name|[a-z]+ID|[a-z]+Id)(?![\w/.-]|:(?:\s|$))"
)


# A template action, not a value: `{{ template … }}`, `{{- range … }}`, `{{ end }}`, `{{ if … }}`, `{{ define … }}`.
TEMPLATE_ACTION = re.compile(r"\{\{-?\s*(?:template|range|if|else|end|define|block|with|include)\b")
VALUE = re.compile(r"\{\{-?\s*\.[A-Za-z][\w.]*(?:\s*\|[^{}]*)?\s*-?\}\}")  # `{{ .Values.image }}`: a value to fill


def find_placeholders(code: str, lang: str = "") -> list[str]:
    """Placeholders in order of first appearance, each once."""
    if lang in ("html", "xml"):
        return []
    template = bool(TEMPLATE_ACTION.search(code))
    found: list[str] = []
    for m in PLACEHOLDER.finditer(code):
        angle = m.group("angle")
        if angle and (angle.lower() in HTML_TAGS or angle.lower().startswith(("!", "/"))):
            continue
        if m.group("brace") and (template or not VALUE.fullmatch(m.group("brace"))):
            continue
        text = m.group(0)
        if text not in found:
            found.append(text)
    return found


def fill(code: str, values: dict[str, str]) -> str:
    """Replace each placeholder that has a (non-empty) value; others stay as they are."""

    def sub(m: re.Match[str]) -> str:
        return values.get(m.group(0)) or m.group(0)

    return PLACEHOLDER.sub(sub, code)
