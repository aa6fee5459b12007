"""An `Answer` → what a person or a program reads: the terminal (`terminal`, rich), plain text and Markdown
(`plain`, also `--md` and MCP), `file:line` links and editors (`sources`).
"""
