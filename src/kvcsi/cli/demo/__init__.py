"""The seed walkthrough as data: the steps ``kvcsi demo`` runs, command for command."""
