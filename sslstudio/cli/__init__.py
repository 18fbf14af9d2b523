"""The command line: `sslstudio COMMAND ...`, each command a thin layer over sslstudio.core."""
