"""Long computations as jobs: ``202 Accepted`` with a job resource reporting progress and result.

A job is a row; work runs in a background thread of the process (or, when split
into partitions, in whichever replica the partition's Kafka message lands on).
Progress and the final state are written in their own short transactions, so
a reader sees them while the work goes on. A process that dies mid-job leaves
it ``running`` with a heartbeat that goes stale; any runner then re-queues it (a bounded
number of attempts), and fails it for good with a ``job.failed`` event after that:
never left half-done and silent.
"""

from sop_shared.jobs.models import Job, JobState
from sop_shared.jobs.routes import JobRead, router
from sop_shared.jobs.runner import (
    JobRunner,
    complete_part,
    create_job,
    find_job,
    finish_in,
    recover_interrupted,
)

__all__ = [
    "Job",
    "JobRead",
    "JobRunner",
    "JobState",
    "complete_part",
    "create_job",
    "find_job",
    "finish_in",
    "recover_interrupted",
    "router",
]
