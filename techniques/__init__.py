"""Technique plug-ins: each option is a transform of the served profile with a price and a quality effect.

See :mod:`techniques.base` for the contract and :mod:`techniques.registry` for discovery.
"""
