"""A `Query` and an index → ranked passages and snippets: `RankConfig` and the ranking functions (`search`),
the learned snippet ranking (`snippet_model`), and the `Retriever` that holds reader, embedder and config.
"""
