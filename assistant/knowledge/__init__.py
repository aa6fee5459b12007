"""What kt knows of commands, read by chunking and by questions alike: kubectl's verbs and resources
(`kubectl`), outdated commands (`deprecations`), destructive commands (`destructive`), and every hand-written
word list (`words`, from `data/words.json`).
"""
