"""Record linkage of registers: normalisation, the model, the command."""
