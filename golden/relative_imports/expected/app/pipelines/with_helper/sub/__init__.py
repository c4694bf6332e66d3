"""Sub-package of the with_helper wrapper."""
