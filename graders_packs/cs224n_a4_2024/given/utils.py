"""The handout's utils.evaluate_places, which london_baseline.py calls; the grader supplies this copy."""


def evaluate_places(filepath, predicted_places):
    """(total, correct) as floats: how many of the birth places in the TSV at `filepath` (name TAB place a
    line) the predictions get right; (0, 0) when the file has no places."""
    with open(filepath, encoding="utf-8") as fin:
        lines = [x.strip().split("\t") for x in fin]
    if len(lines[0]) == 1:
        print("No gold birth places provided; returning (0,0)")
        return (0, 0)
    true_places = [x[1] for x in lines]
    total = len(true_places)
    assert total == len(predicted_places)
    correct = len([1 for true, predicted in zip(true_places, predicted_places, strict=True) if true == predicted])
    return (float(total), float(correct))
