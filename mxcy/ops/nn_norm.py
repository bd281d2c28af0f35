"""(being written) neural-network operators: nn_norm."""
