"""The scores of the small classifiers that CAS, the augmentation-gain study and
``csacgan downstream`` fit (fit.fit_small_cnn): balanced accuracy, macro-F1, minority recall."""
from __future__ import annotations

from sklearn.metrics import balanced_accuracy_score, f1_score, recall_score



def scores(y_true, y_pred, num_classes: int, minority: list[int]) -> dict:
    """Balanced accuracy, macro-F1, accuracy and mean recall of the minority classes."""
    y_true, y_pred = y_true.numpy(), y_pred.numpy()
    recalls = recall_score(y_true, y_pred, labels=list(range(num_classes)), average=None, zero_division=0)
    return {"balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)),
            "macro_f1": float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
            "accuracy": float((y_true == y_pred).mean()),
            "minority_recall": float(recalls[minority].mean()) if minority else float("nan"),
            "per_class_recall": {str(c): float(r) for c, r in enumerate(recalls)}}
