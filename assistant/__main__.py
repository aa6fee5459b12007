from assistant.app.cli import main

main()
