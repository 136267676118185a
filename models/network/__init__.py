"""What makes the nodes a network: blocks, alliances, the shared directory,
reports and obligations (issue 11)."""
