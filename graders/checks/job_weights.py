"""What every training job shares, shipped as source above the job's own (lm.JobSource): its error, and the way
trained weights cross the wire between the training child and the evaluation child. Imports only torch, as the
jobs do (they import it; this file needs nothing)."""


class JobError(Exception):
    """What the job could not do with the student's code, said in the handout's terms."""


def state(model):
    """The trained weights as plain data for the wire: the state dict on the CPU."""
    return {k: v.detach().cpu() for k, v in model.state_dict().items()}


def load(model, weights, device):
    """The trained weights into a freshly built model; they must fit it exactly."""
    try:
        model.load_state_dict(weights, strict=True)
    except (RuntimeError, TypeError) as e:
        raise JobError(f"the trained weights do not fit the model: {' '.join(str(e).split())[:300]}") from None
    return model.to(device).eval()
