"""CS224N London baseline: the dev accuracy, in percent, of predicting "London" for every example."""


def london_accuracy(dev_tsv_text):
    """Percent of the lines `Where was NAME born?<TAB>PLACE` whose place is London."""
    places = [line.split("\t")[1].strip() for line in dev_tsv_text.splitlines() if line.strip()]
    return 100.0 * sum(place == "London" for place in places) / len(places)
