"""The method's parts, one equation (or one small group of them) per module: the probabilistic
representation, the noise-aware estimator, the modality dependency, the unbiased weights, the
fusion heads, the loss and the fused output every model returns.
"""
