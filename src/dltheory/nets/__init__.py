"""Torch building blocks shared by all pillars: random-MLP ensembles, empirical NTKs, trainers."""
