"""A question → one parsed `Query`: its words, intent, kubectl verbs and resources (`parse`), the sides of a
comparison (`compare`) and the rewrite of a follow-up (`followup`).
"""
