r"""Disaggregated pair columns in the pricing LP (``plan.disaggregation = true``).

The pricing LP of :mod:`planner.insight.explanation` prices demand by the cheapest capacity that can
serve it.  With disaggregation that includes the prefill/decode pairs of
:mod:`planner.optimize.disagg_milp`, relaxed: for pair ``k`` of class ``c`` and period ``p``, with
``s`` the variant's served share of the class's queries,

* free pools: prefill replicas ``P ≥ 0``, decode replicas ``D ≥ 0`` and the requests/s ``z ≥ 0`` the
  pair serves, ``pairp_k_p: z − (λ_p/s) P ≤ 0`` and ``paird_k_p: z − (λ_d/s) D ≤ 0``, using
  ``t_p P`` GPUs of the prefill hardware and ``t_d D`` of the decode hardware;
* an intra-node pair (``unit = (p_k, d_k)`` replicas per scale-up domain): ``U ≥ 0`` domains,
  ``z ≤ (λ_p/s) p_k U`` and ``z ≤ (λ_d/s) d_k U``, using ``p_k t_p + idle`` GPUs of the prefill
  hardware (the domain's GPUs without a replica, as the MILP counts them) and ``d_k t_d`` of the decode
  hardware per domain — all ``g_k`` of the domain's GPUs when both pools are of one type (one term: a
  PuLP expression built from (variable, coefficient) pairs keeps the last coefficient of a variable
  listed twice, which priced such a domain at its decode GPUs alone while this module was written);

and ``z`` joins the class's ``capacity_c_p`` row.  At the optimum one more request/s costs the cheapest
of a co-located replica's and a pair's GPUs per request/s: for a pair ``s (t_p k_p/λ_p + t_d k_d/λ_d)``
(free pools; ``k`` a GPU's period).  Until the sixteenth session the LP held co-located columns only,
so a plan served by pairs had its demand priced at the dearer co-located capacity.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import pulp

from planner.catalog.store import Catalog
from planner.optimize.candidates import CandidateSet
from planner.optimize.disagg_columns import build_pair_columns
from planner.optimize.pruning import Column
from planner.scenario.schema import Scenario

Terms = list[tuple[pulp.LpVariable, float]]


@dataclass
class PairTerms:
    """What the pairs add to the pricing LP's rows: requests/s per (class, period), GPUs per (hardware, period)."""

    served: dict[tuple[int, int], Terms] = field(default_factory=lambda: defaultdict(list))
    gpus: dict[tuple[int, int], Terms] = field(default_factory=lambda: defaultdict(list))


def pair_terms(prob: pulp.LpProblem, scenario: Scenario, catalog: Catalog, cs: CandidateSet, columns: list[Column],
               offered_hardware: set[int], periods: int) -> PairTerms:
    """The pair columns of the ``columns``' variants, as variables of ``prob`` and the terms they add
    (module docstring); empty without ``plan.disaggregation``."""
    out = PairTerms()
    if not scenario.plan.disaggregation:
        return out
    pairs, _, _ = build_pair_columns(scenario, catalog, cs, columns, offered_hardware)
    for k, pair in enumerate(pairs):
        served = cs.variants[pair.variant].profiles[cs.workloads[pair.workload]].served_query_fraction
        per_prefill, per_decode = pair.prefill_rps / served, pair.decode_rps / served
        for p in range(periods):
            z = prob.add_variable(f"pz_{k:05d}_{p:03d}", 0)
            if pair.unit is None:
                pre = prob.add_variable(f"pP_{k:05d}_{p:03d}", 0)
                dec = prob.add_variable(f"pD_{k:05d}_{p:03d}", 0)
                prob += z - per_prefill * pre <= 0, f"pairp_{k}_{p}"
                prob += z - per_decode * dec <= 0, f"paird_{k}_{p}"
                out.gpus[pair.prefill_hardware, p].append((pre, float(pair.prefill_tp)))
                out.gpus[pair.decode_hardware, p].append((dec, float(pair.decode_tp)))
            else:
                units = prob.add_variable(f"pU_{k:05d}_{p:03d}", 0)
                prob += z - per_prefill * pair.unit[0] * units <= 0, f"pairp_{k}_{p}"
                prob += z - per_decode * pair.unit[1] * units <= 0, f"paird_{k}_{p}"
                if pair.prefill_hardware == pair.decode_hardware:  # one term: a row holds each variable once
                    out.gpus[pair.prefill_hardware, p].append((units, float(pair.unit_gpus)))
                else:
                    out.gpus[pair.prefill_hardware, p].append(
                        (units, float(pair.unit[0] * pair.prefill_tp + pair.idle_gpus)))
                    out.gpus[pair.decode_hardware, p].append((units, float(pair.unit[1] * pair.decode_tp)))
            out.served[pair.workload, p].append((z, 1.0))
    return out
