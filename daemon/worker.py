"""The model worker: one thread per device takes jobs from the fair queue, runs them through
``clvae.edit`` and hands every reply to the socket thread over an inproc PUSH socket (only
that thread touches the ROUTER socket)."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

import torch
import zmq
from torch import nn

from clvae import edit as api
from clvae.model.codes import Codes, CodesError
from daemon.arrays import codes_from_numpy, codes_to_numpy, from_numpy, to_numpy
from daemon.jobs import FairQueue, Job
from daemon.protocol import BAD_CODES, CANCELLED, INTERNAL, OUT_OF_MEMORY, Array, Message, encode, error_reply

REPLIES_ENDPOINT = "inproc://clvae-replies"
REPLY_LINGER_MS = 1000  # a last reply may wait this long for the socket thread
log = logging.getLogger("clvae.daemon")


@dataclass
class Hooks:
    """What a long operation gets besides its arguments."""

    progress: Callable[[int, int], None]
    should_cancel: Callable[[], bool]
    max_batch: int


Operation = Callable[[nn.Module, dict[str, Any], Hooks], list[api.Result]]


class Worker(threading.Thread):
    """Runs the queue's jobs one at a time on the models of one device."""

    def __init__(self, queue: FairQueue, models: dict[str, nn.Module], context: zmq.Context, key: bytes | None,
                 max_batch: int, verbose: bool) -> None:
        super().__init__(name="clvae-worker", daemon=True)
        self.queue, self.models, self.context, self.key = queue, models, context, key
        self.max_batch, self.verbose = max_batch, verbose

    def run(self) -> None:
        out = self.context.socket(zmq.PUSH)
        out.setsockopt(zmq.LINGER, REPLY_LINGER_MS)
        out.connect(REPLIES_ENDPOINT)
        try:
            while (job := self.queue.take()) is not None:
                try:
                    self._run(job, lambda message, job=job: out.send_multipart(
                        [*job.client, *encode(message, self.key)], copy=False))
                except Exception:  # a reply that could not be made: log it, keep serving
                    log.exception("job %s (%s %s) could not be answered", job.id, job.type, job.request_id)
                finally:
                    self.queue.finish(job)
        finally:
            out.close()

    def _run(self, job: Job, send: Callable[[Message], None]) -> None:
        def report(done: int, total: int) -> None:
            if done < total:  # the result itself says when all are done
                send(Message("progress", {"job": job.id, "state": "running", "done": done, "total": total,
                                          "fraction": done / total}, job.request_id))

        report(0, job.body.get("n", 1))
        reply = self._reply(job, report)
        started = time.perf_counter()
        send(reply)
        if reply.type == "error":
            log.warning("job %s (%s %s) failed: %s: %s", job.id, job.type, job.request_id, reply.body["code"],
                        reply.body["message"])
        if self.verbose:
            log.info("job %s (%s %s): waited %.1f ms, ran %.1f ms, reply sent in %.1f ms", job.id, job.type,
                     job.request_id, 1e3 * (job.started - job.received), 1e3 * (started - job.started),
                     1e3 * (time.perf_counter() - started))

    def _reply(self, job: Job, report: Callable[[int, int], None]) -> Message:
        """The job's result, or the error that stopped it."""
        try:
            if job.should_cancel():
                raise api.Cancelled("cancelled before it started")
            args = {name: _from_wire(value) for name, value in job.body.items() if name != "model"}
            model = self.models[job.body["model"]]
            operation, with_images = OPERATIONS[job.type]
            results = operation(model, args, Hooks(report, job.should_cancel, self.max_batch))
            return Message("result", {"job": job.id, "results": [_result(r, with_images) for r in results],
                                      "seconds": time.perf_counter() - job.started}, job.request_id)
        except api.Cancelled as stop:
            return error_reply(job.request_id, job.cancel_code or CANCELLED, f"job {job.id} stopped: {stop}")
        except api.EditError as error:
            return error_reply(job.request_id, error.code, str(error))
        except CodesError as error:
            return error_reply(job.request_id, BAD_CODES, f"the codes are malformed: {error}")
        except (torch.cuda.OutOfMemoryError, MemoryError) as error:
            return error_reply(job.request_id, OUT_OF_MEMORY, f"the device ran out of memory: {error}")
        except Exception as error:  # a bug: say so, keep serving
            log.exception("job %s (%s %s) crashed", job.id, job.type, job.request_id)
            return error_reply(job.request_id, INTERNAL, f"internal error: {type(error).__name__}: {error}")


def _from_wire(value: Any) -> Any:
    """A request value as the edit API takes it: arrays as numpy, code maps as Codes."""
    if isinstance(value, Array):
        return to_numpy(value)
    if isinstance(value, dict):
        return Codes.from_arrays(codes_to_numpy(value))
    return value


def _result(result: api.Result, with_image: bool) -> dict[str, Any]:
    entry = {"codes": codes_from_numpy(result.codes.to_arrays()), "seed": result.seed}
    if with_image:
        entry["image"] = from_numpy(result.image)
    return entry


def _generate(model: nn.Module, args: dict[str, Any], hooks: Hooks) -> list[api.Result]:
    return api.generate(model, max_batch=hooks.max_batch, progress=hooks.progress,
                        should_cancel=hooks.should_cancel, **args)


def _single(function: Callable[..., api.Result]) -> Operation:
    """An operation of one result and no hooks."""
    return lambda model, args, hooks: [function(model, **args)]


OPERATIONS: dict[str, tuple[Operation, bool]] = {  # request type -> (operation, whether results carry images)
    "generate": (_generate, True),
    "reroll": (_single(api.reroll), True),
    "transfer": (_single(api.transfer), True),
    "reconstruct": (_single(api.reconstruct), True),
    "edit": (_single(api.edit), True),
    "render": (_single(api.render), True),
    "encode": (_single(api.reconstruct), False),  # the encoder's means; the picture is left out
}
