"""What every training job shares, the first module of its package (graders.jobs.JobSource), which the job's own
modules import (`from .job_weights import JobError`): its error, and the way trained weights cross the wire between
the training child and the evaluation child, and how a job reports its progress. Imports only its package's
`report`, which the sandbox child gives it (and the grader's own copy a no-op): the sandbox hides the grader."""
from . import report


class JobError(Exception):
    """What the job could not do with the student's code, said in the handout's terms."""


def state(model):
    """The trained weights as plain data for the wire: the state dict on the CPU."""
    return {k: v.detach().cpu() for k, v in model.state_dict().items()}


def progress(step, steps, loss):
    """Tell the grader how training goes (step of steps, the last loss): shown to course staff while the job runs,
    never scored. The child sends at most two a second, whatever the job calls."""
    report({"step": step, "steps": steps, "loss": loss})


def load(model, weights, device):
    """The trained weights into a freshly built model; they must fit it exactly."""
    try:
        model.load_state_dict(weights, strict=True)
    except (RuntimeError, TypeError) as e:
        raise JobError(f"the trained weights do not fit the model: {' '.join(str(e).split())[:300]}") from None
    return model.to(device).eval()
