"""The transnational channel: this node's identity, its partner nodes, and signed, encrypted
messages between them (outbox, node-to-node endpoint, receipts, message log).

See docs/transnational.md."""
