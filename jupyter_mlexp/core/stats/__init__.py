"""The verdict and its statistics: what is counted (:mod:`.observations`), how each arm is tested
(:mod:`.verdict_arms`, :mod:`.inference`), the one decision (:mod:`.verdict`) and how it is shown
(:mod:`.headline`, :mod:`.forest`)."""
