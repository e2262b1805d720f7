"""Customer lifetime value: BG/NBD (purchase frequency, P(alive)) and Gamma-Gamma (spend), fitted by
maximum likelihood with numpy/scipy. Used by the dbt Python models in models/intermediate/customers."""

from orchestration.clv.bgnbd import BgNbdParams
from orchestration.clv.gamma_gamma import GammaGammaParams
from orchestration.clv.scoring import fit_parameters, score

__all__ = ["BgNbdParams", "GammaGammaParams", "fit_parameters", "score"]
