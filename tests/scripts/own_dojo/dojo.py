"""The script's own `dojo`: it wins over asyncdojo's."""

WHOSE = "mine"
