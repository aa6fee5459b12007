"""Notes → chunks and snippets: find and read note files (`notes`), tell markup from content (`markup`), cut
heading sections (`chunks`) and their commands and manifests (`snippets`), and the texts each is indexed by
(`texts`).
"""
