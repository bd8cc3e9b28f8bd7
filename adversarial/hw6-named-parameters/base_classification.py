"""hw6 base_classification.py, every graded function plainly wrong with the right interface."""


def evaluate_model(model, dataloader, device):
    return {"accuracy": 0.0}


def train(mymodel, num_epochs, train_dataloader, validation_dataloader, device, lr):
    for _ in range(num_epochs):
        for batch in train_dataloader:
            pass
