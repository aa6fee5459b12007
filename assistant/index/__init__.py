"""Chunks → the index on disk and back: the model (`embed`), vectors and their reuse (`vectors`), BM25
(`lexical`), the format of one generation (`generation`), the index folder and its updates (`store`,
`build`), and every index under the cache folder (`indexes`).
"""
