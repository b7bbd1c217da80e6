"""Experiments built from run folders: the paper's grid (``grid``) and its report
(``report``)."""
