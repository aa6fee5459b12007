"""What runs on the core API (`core.Assistant`): the typer CLI (`cli`), the REPL (`repl`), `kt watch`,
`kt eval`, `kt mcp` (`mcp_*`), and the index status.
"""
