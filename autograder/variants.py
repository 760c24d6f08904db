"""What released notebooks import: ``from autograder.variants import variant_for``.

A public path, kept for every notebook already handed out; the code is
:mod:`autograder.rubric.variants`.
"""

from autograder.rubric.variants import Variant, VariantError, variant_for

__all__ = ["Variant", "VariantError", "variant_for"]
