"""Write upstream NetworkPolicy e2e tests out as truth-table cases (schema_version 1).

Run ``python tests/engine/upstream_transcribe.py`` to (re)write ``tests/engine/upstream_cases/``.

Each entry of ``TESTS`` below is one test of the upstream Kubernetes e2e suite
(``kubernetes/kubernetes``, ``test/e2e/network/netpol/network_policy.go``, newest stored version,
in which every test declares its own pod topology such as ``x/a, x/b, y/a``), transcribed as data:
the pods and protocols/ports the test passes to ``initializeResources``, the policies it sends
(as the API server receives them: ``GenNetworkPolicyWithNameAndPodMatchLabel`` gives
``podSelector.matchLabels``; ``SetSpecIngressRules``/``SetSpecEgressRules`` append the policy
type in call order; Go's ``omitempty`` drops empty lists and maps), the state changes between
probe rounds, and the reachability expectations it builds.

The expected tables are computed here exactly as upstream's ``Reachability`` does it
(``reachability.go``): start from the all-allowed table of the test's pods and apply the
test's ``Expect`` / ``ExpectPeer`` / ``ExpectAllIngress`` / ``ExpectAllEgress`` calls in order.
Nothing here evaluates a NetworkPolicy, and the netfence engine is never imported, so the
cases stay an independent oracle.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

OUT = Path(__file__).resolve().parent / "upstream_cases"
NS_LABEL = "kubernetes.io/metadata.name"
NAMESPACES = ("x", "y", "z")
SOURCE_FILE = "test/e2e/network/netpol/network_policy.go"
VERSION = "newest stored version (per-test pod topology; helper makeLargeCIDRForIP); index id 5845361260"
DESCRIBE_TCP = "[sig-network] Netpol NetworkPolicy between server and client"
DESCRIBE_UDP = "[sig-network] Netpol [LinuxOnly] NetworkPolicy between server and client using UDP"
DESCRIBE_SCTP = "[sig-network] Netpol [Feature:SCTPConnectivity] [LinuxOnly] NetworkPolicy between server and client using SCTP"
IPBLOCK_NOTE = ("Precondition assumed by upstream: every pod IP in the model lies inside the /4 CIDR "
                "(true for normal pod CIDRs such as 10.244.0.0/16).")


# ------------------------------------------------------------------ policy builders (as sent)
def sel(match_labels: dict[str, str] | None = None, exprs: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A LabelSelector as serialised: empty matchLabels/matchExpressions are omitted."""
    out: dict[str, Any] = {}
    if match_labels:
        out["matchLabels"] = dict(match_labels)
    if exprs:
        out["matchExpressions"] = exprs
    return out


def expr(key: str, op: str, values: list[str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"key": key, "operator": op}
    if values:
        out["values"] = values
    return out


def peer(pod: dict[str, Any] | None = None, ns: dict[str, Any] | None = None, ip: dict[str, Any] | None = None) -> dict[str, Any]:
    """NetworkPolicyPeer in Go field order (podSelector, namespaceSelector, ipBlock)."""
    out: dict[str, Any] = {}
    if pod is not None:
        out["podSelector"] = pod
    if ns is not None:
        out["namespaceSelector"] = ns
    if ip is not None:
        out["ipBlock"] = ip
    return out


def port(number: int | str | None = None, protocol: str | None = None) -> dict[str, Any]:
    """NetworkPolicyPort in Go field order (protocol, port); absent protocol stays absent."""
    out: dict[str, Any] = {}
    if protocol is not None:
        out["protocol"] = protocol
    if number is not None:
        out["port"] = number
    return out


def rule(peers: list[dict[str, Any]] | None = None, ports: list[dict[str, Any]] | None = None, *, egress: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if ports:
        out["ports"] = ports
    if peers:
        out["to" if egress else "from"] = peers
    return out


def netpol(name: str, ns: str, pod_selector: dict[str, Any], *, ingress: list[dict[str, Any]] | None = None,
           egress: list[dict[str, Any]] | None = None, types: list[str]) -> dict[str, Any]:
    """A NetworkPolicy manifest; ``ingress``/``egress`` None or [] are omitted (omitempty)."""
    spec: dict[str, Any] = {"podSelector": pod_selector}
    if ingress:
        spec["ingress"] = ingress
    if egress:
        spec["egress"] = egress
    spec["policyTypes"] = types
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": ns}, "spec": spec}


def pod_a() -> dict[str, Any]:
    return sel({"pod": "a"})


def ns_is(name: str) -> dict[str, Any]:
    return sel({NS_LABEL: name})


# ------------------------------------------------------------------ expectations (reachability.go)
def P(ns: str = "", pod: str = "") -> tuple[str, str]:
    """upstream ``Peer{Namespace, Pod}``: an empty field matches everything."""
    return (ns, pod)


def expect(src: str, dst: str, ok: bool) -> tuple[Any, ...]:
    return ("expect", src, dst, ok)


def expect_peer(src: tuple[str, str], dst: tuple[str, str], ok: bool) -> tuple[Any, ...]:
    return ("peer", src, dst, ok)


def all_ingress(pod: str, ok: bool) -> tuple[Any, ...]:
    return ("all_ingress", pod, ok)


def all_egress(pod: str, ok: bool) -> tuple[Any, ...]:
    return ("all_egress", pod, ok)


def _peer_matches(p: tuple[str, str], pod: str) -> bool:
    ns, name = pod.split("/")
    return (p[0] in ("", ns)) and (p[1] in ("", name))


def truth_table(pods: list[str], calls: list[tuple[Any, ...]]) -> dict[tuple[str, str], bool]:
    """``NewReachability(pods, true)`` followed by the test's calls, in order."""
    table = {(s, d): True for s in pods for d in pods}
    for call in calls:
        kind = call[0]
        if kind == "expect":
            assert call[1] in pods and call[2] in pods, call
            table[(call[1], call[2])] = call[3]
        elif kind == "all_ingress":
            for s in pods:
                table[(s, call[1])] = call[2]
        elif kind == "all_egress":
            for d in pods:
                table[(call[1], d)] = call[2]
        elif kind == "peer":
            for s in pods:
                if _peer_matches(call[1], s):
                    for d in pods:
                        if _peer_matches(call[2], d):
                            table[(s, d)] = call[3]
        else:
            raise ValueError(kind)
    return table


# ------------------------------------------------------------------ actions
def create(policy: dict[str, Any]) -> dict[str, Any]:
    return {"create_policy": policy}


def update(policy: dict[str, Any]) -> dict[str, Any]:
    return {"update_policy": policy}


def delete_all() -> dict[str, Any]:
    return {"delete_all_policies": {"namespaces": list(NAMESPACES)}}


def add_pod_labels(ns: str, pod: str, labels: dict[str, str]) -> dict[str, Any]:
    return {"add_pod_labels": {"namespace": ns, "pod": pod, "labels": labels}}


def add_ns_labels(ns: str, labels: dict[str, str]) -> dict[str, Any]:
    return {"add_namespace_labels": {"namespace": ns, "labels": labels}}


def step(description: str, actions: list[dict[str, Any]], probe: tuple[str, int], calls: list[tuple[Any, ...]]) -> dict[str, Any]:
    return {"description": description, "actions": actions, "probe": probe, "calls": calls}


# ------------------------------------------------------------------ the tests
SYMBOLS_MASKED = {
    "<ip of x/b>": "status.podIP of pod x/b (/32 IPv4, /128 IPv6)",
    "<ip of x/b masked to /4>": "network address of the /4 containing x/b's IP (makeLargeCIDRForIP), e.g. 10.244.1.7 -> 0.0.0.0",
}
SYMBOLS_UNMASKED = {
    "<ip of x/b>": "status.podIP of pod x/b (/32 IPv4, /128 IPv6)",
    "<ip of x/a>": "status.podIP of pod x/a written unmasked before '/4' (older upstream code: fmt.Sprintf(\"%s/4\", podA.Status.PodIP))",
}


def _cidr_except(cidr: str) -> dict[str, Any]:
    return netpol("allow-client-a-via-cidr-egress-rule", "x", pod_a(),
                  egress=[rule([peer(ip={"cidr": cidr, "except": ["<ip of x/b>/32"]})], egress=True)], types=["Egress"])


def _tests() -> list[dict[str, Any]]:
    T: list[dict[str, Any]] = []

    def add(name: str, test: str, covers: list[str], protocols: list[str], ports: list[int], pods: list[str],
            steps: list[dict[str, Any]], describe: str = DESCRIBE_TCP, symbols: dict[str, str] | None = None,
            notes: list[str] | None = None, full3x3: list[dict[str, Any]] | None = None,
            full3x3_symbols: dict[str, str] | None = None, shared: bool = False) -> None:
        """``full3x3``: the steps as the older full-model version of the test has them, when they differ;
        ``shared``: the current variant is already in the shared folder (checked against it, not written)."""
        T.append(dict(name=name, test=test, covers=covers, protocols=protocols, ports=ports, pods=pods,
                      steps=steps, describe=describe, symbols=symbols or {}, notes=notes or [],
                      full3x3=full3x3, full3x3_symbols=full3x3_symbols, shared=shared))

    # --- the eight tests already in the shared folder (current variant there; full3x3 here)
    add("tcp-default-deny-ingress", "should support a 'default-deny-ingress' policy", ["default-deny", "ingress"],
        ["TCP"], [80], ["x/a", "x/b", "y/a", "y/b"],
        [step("deny-ingress in x", [create(netpol("deny-ingress", "x", {}, types=["Ingress"]))], ("TCP", 80),
              [expect_peer(P(), P("x"), False)])], shared=True)
    add("tcp-allow-from-podselector-same-ns",
        "should enforce policy to allow traffic from pods within server namespace based on PodSelector",
        ["podSelector", "ingress"], ["TCP"], [80], ["x/a", "x/b", "x/c", "y/a"],
        [step("x-a-allows-x-b", [create(netpol("x-a-allows-x-b", "x", pod_a(), ingress=[rule([peer(sel({"pod": "b"}))])],
                                               types=["Ingress"]))],
              ("TCP", 80), [all_ingress("x/a", False), expect("x/b", "x/a", True)])], shared=True)
    add("tcp-allow-only-from-other-namespace-nsselector",
        "should enforce policy to allow traffic only from a different namespace, based on NamespaceSelector",
        ["namespaceSelector", "ingress"], ["TCP"], [80], ["x/a", "x/b", "y/a", "z/a"],
        [step("allow-client-a-via-ns-selector", [create(netpol("allow-client-a-via-ns-selector", "x", pod_a(),
                                                               ingress=[rule([peer(ns=ns_is("y"))])], types=["Ingress"]))],
              ("TCP", 80), [expect_peer(P("x"), P("x", "a"), False), expect_peer(P("z"), P("x", "a"), False)])], shared=True)
    add("tcp-deny-ingress-to-updated-pod", "should deny ingress access to updated pod",
        ["pod-label-change", "before-after", "default-deny"], ["TCP"], [80], ["x/a", "y/a"],
        [step("deny-ingress-via-label-selector (target=isolated); no pod has the label",
              [create(netpol("deny-ingress-via-label-selector", "x", sel({"target": "isolated"}), types=["Ingress"]))],
              ("TCP", 80), []),
         step("add label target=isolated to x/a", [add_pod_labels("x", "a", {"target": "isolated"})], ("TCP", 80),
              [all_ingress("x/a", False)])], shared=True)
    add("tcp-egress-ipblock-except", "should enforce except clause while egress access to server in CIDR block",
        ["ipBlock", "ipBlock-except", "egress", "pod-ip-symbolic"], ["TCP"], [80], ["x/a", "x/b", "x/c"],
        [step("allow egress from x/a to the /4 except x/b", [create(_cidr_except("<ip of x/b masked to /4>/4"))], ("TCP", 80),
              [expect("x/a", "x/b", False)])],
        symbols=dict(SYMBOLS_MASKED), notes=[IPBLOCK_NOTE], shared=True,
        full3x3=[step("allow egress from x/a to <ip of x/a>/4 (host bits kept) except x/b",
                      [create(_cidr_except("<ip of x/a>/4"))], ("TCP", 80), [expect("x/a", "x/b", False)])],
        full3x3_symbols=dict(SYMBOLS_UNMASKED))
    add("tcp-ingress-named-port", "should allow ingress access on one named port", ["named-port", "ingress", "ports-without-peers"],
        ["TCP"], [80, 81], ["x/a", "x/b", "y/a"],
        [step("allow-all (named port serve-81-tcp); verify 81",
              [create(netpol("allow-all", "x", {}, ingress=[rule(None, [port("serve-81-tcp")])], types=["Ingress"]))],
              ("TCP", 81), []),
         step("verify 80", [], ("TCP", 80), [expect_peer(P(), P("x"), False)])], shared=True)
    add("tcp-multiple-ingress-allow-all-wins", "should enforce multiple ingress policies with ingress allow-all policy taking precedence",
        ["union", "ingress", "ports-numeric"], ["TCP"], [81], ["x/a", "y/a"],
        [step("allow-ingress-port-80 for every pod of x; verify 81",
              [create(netpol("allow-ingress-port-80", "x", {}, ingress=[rule(None, [port(80)])], types=["Ingress"]))],
              ("TCP", 81), [expect_peer(P(), P("x"), False)]),
         step("add allow-ingress (ingress: [{}])",
              [create(netpol("allow-ingress", "x", {}, ingress=[{}], types=["Ingress"]))], ("TCP", 81), [])], shared=True)
    add("sctp-ports", "should enforce policy based on Ports", ["ports-numeric", "namespaceSelector", "sctp"],
        ["SCTP"], [81], ["x/a", "x/b", "y/a", "z/a"],
        [step("allow-ingress-on-port-81-ns-x (SCTP/81 from ns y)",
              [create(netpol("allow-ingress-on-port-81-ns-x", "x", pod_a(),
                             ingress=[rule([peer(ns=ns_is("y"))], [port(81, "SCTP")])], types=["Ingress"]))],
              ("SCTP", 81), [expect_peer(P("x"), P("x", "a"), False), expect_peer(P("z"), P("x", "a"), False)])],
        describe=DESCRIBE_SCTP, shared=True)

    # --- further tests

    deny_all = netpol("deny-all", "x", {}, types=["Ingress", "Egress"])
    add("tcp-default-deny-all", "should support a 'default-deny-all' policy", ["default-deny", "ingress", "egress"],
        ["TCP"], [80], ["x/a", "x/b", "y/a"],
        [step("deny-all (ingress and egress) in x", [create(deny_all)], ("TCP", 80),
              [expect_peer(P(), P("x"), False), expect_peer(P("x"), P(), False)])])

    allow_all_to_a = netpol("allow-all-to-a", "x", pod_a(), ingress=[rule([peer(sel(), sel())])], types=["Ingress"])
    add("tcp-allow-ingress-for-target", "should enforce policy to allow ingress traffic for a target",
        ["default-deny", "union", "empty-selectors-and"], ["TCP"], [80], ["x/a", "x/b", "y/a"],
        [step("deny-all ingress in x, then allow-all-to-a from {podSelector: {}, namespaceSelector: {}}",
              [create(netpol("deny-all", "x", {}, types=["Ingress"])), create(allow_all_to_a)], ("TCP", 80),
              [all_ingress("x/a", True), all_ingress("x/b", False)])],
        full3x3=[step("deny-all ingress in x, then allow-all-to-a from {podSelector: {}, namespaceSelector: {}}",
                      [create(netpol("deny-all", "x", {}, types=["Ingress"])), create(allow_all_to_a)], ("TCP", 80),
                      [all_ingress("x/a", True), all_ingress("x/b", False), all_ingress("x/c", False)])])

    add("tcp-allow-ingress-from-all-namespaces", "should enforce policy to allow ingress traffic from pods in all namespaces",
        ["namespaceSelector-empty", "ingress"], ["TCP"], [80], ["x/a", "x/b", "y/a", "z/a"],
        [step("allow-from-another-ns: x/a from namespaceSelector {}",
              [create(netpol("allow-from-another-ns", "x", pod_a(), ingress=[rule([peer(ns=sel())])], types=["Ingress"]))],
              ("TCP", 80), [])])

    add("tcp-podselector-matchexpressions", "should enforce policy based on PodSelector with MatchExpressions",
        ["matchExpressions-In", "podSelector"], ["TCP"], [80], ["x/a", "x/b", "y/a"],
        [step("x-a-allows-x-b via pod In (b)",
              [create(netpol("x-a-allows-x-b", "x", pod_a(),
                             ingress=[rule([peer(sel(exprs=[expr("pod", "In", ["b"])]))])], types=["Ingress"]))],
              ("TCP", 80), [all_ingress("x/a", False), expect("x/b", "x/a", True)])])

    add("tcp-nsselector-matchexpressions", "should enforce policy based on NamespaceSelector with MatchExpressions",
        ["matchExpressions-In", "namespaceSelector"], ["TCP"], [80], ["x/a", "x/b", "y/a", "z/a"],
        [step("allow-ns-y-match-selector via namespace In (y)",
              [create(netpol("allow-ns-y-match-selector", "x", pod_a(),
                             ingress=[rule([peer(ns=sel(exprs=[expr(NS_LABEL, "In", ["y"])]))])], types=["Ingress"]))],
              ("TCP", 80), [expect_peer(P("x"), P("x", "a"), False), expect_peer(P("z"), P("x", "a"), False)])])

    add("tcp-podselector-or-nsselector", "should enforce policy based on PodSelector or NamespaceSelector",
        ["peers-or", "matchExpressions-NotIn"], ["TCP"], [80], ["x/a", "x/b", "x/c", "y/a"],
        [step("two peers: namespace NotIn (x) OR pod=b",
              [create(netpol("allow-ns-y-match-selector", "x", pod_a(),
                             ingress=[rule([peer(ns=sel(exprs=[expr(NS_LABEL, "NotIn", ["x"])])), peer(sel({"pod": "b"}))])],
                             types=["Ingress"]))],
              ("TCP", 80), [expect("x/a", "x/a", False), expect("x/c", "x/a", False)])])

    add("tcp-podselector-and-nsselector", "should enforce policy based on PodSelector and NamespaceSelector",
        ["peer-and", "matchExpressions-NotIn"], ["TCP"], [80], ["x/a", "x/b", "y/a", "y/b", "z/b"],
        [step("one peer: namespace NotIn (x) AND pod=b",
              [create(netpol("allow-ns-y-podselector-and-nsselector", "x", pod_a(),
                             ingress=[rule([peer(sel({"pod": "b"}), sel(exprs=[expr(NS_LABEL, "NotIn", ["x"])]))])],
                             types=["Ingress"]))],
              ("TCP", 80), [all_ingress("x/a", False), expect("y/b", "x/a", True), expect("z/b", "x/a", True)])])

    multi = [create(netpol("allow-ns-y-z-pod-b-c", "x", pod_a(),
                           ingress=[rule([peer(sel(exprs=[expr("pod", "In", ["b", "c"])]),
                                               sel(exprs=[expr(NS_LABEL, "NotIn", ["x"])]))])],
                           types=["Ingress"]))]
    add("tcp-multiple-podselectors-and-nsselectors", "should enforce policy based on Multiple PodSelectors and NamespaceSelectors",
        ["peer-and", "matchExpressions-NotIn", "matchExpressions-In"], ["TCP"], [80], ["x/a", "x/b", "y/a", "y/b", "y/c"],
        [step("one peer: namespace NotIn (x) AND pod In (b, c)", multi,
              ("TCP", 80), [expect_peer(P("x"), P("x", "a"), False), expect("y/a", "x/a", False)])],
        full3x3=[step("one peer: namespace NotIn (x) AND pod In (b, c)", multi, ("TCP", 80),
                      [expect_peer(P("x"), P("x", "a"), False), expect("y/a", "x/a", False), expect("z/a", "x/a", False)])])

    add("tcp-any-podselectors", "should enforce policy based on any PodSelectors",
        ["peers-or", "podSelector"], ["TCP"], [80], ["x/a", "x/b", "x/c"],
        [step("peers pod=b OR pod=c",
              [create(netpol("allow-ns-x-pod-b-c", "x", pod_a(),
                             ingress=[rule([peer(sel({"pod": "b"})), peer(sel({"pod": "c"}))])], types=["Ingress"]))],
              ("TCP", 80), [all_ingress("x/a", False), expect("x/b", "x/a", True), expect("x/c", "x/a", True)])])

    add("tcp-pod-in-other-namespace-pod-and-ns-selector",
        "should enforce policy to allow traffic only from a pod in a different namespace based on PodSelector and NamespaceSelector",
        ["peer-and", "namespaceSelector", "podSelector"], ["TCP"], [80], ["x/a", "x/b", "y/a", "y/b", "z/a"],
        [step("one peer: namespace y AND pod=a",
              [create(netpol("allow-ns-y-pod-a-via-namespace-pod-selector", "x", pod_a(),
                             ingress=[rule([peer(sel({"pod": "a"}), ns_is("y"))])], types=["Ingress"]))],
              ("TCP", 80), [all_ingress("x/a", False), expect("y/a", "x/a", True)])])

    port81_y = netpol("allow-client-a-via-ns-selector", "x", pod_a(),
                      ingress=[rule([peer(ns=ns_is("y"))], [port(81, "TCP")])], types=["Ingress"])
    add("tcp-ports", "should enforce policy based on Ports", ["ports-numeric", "namespaceSelector"],
        ["TCP"], [81], ["x/a", "x/b", "y/a", "y/b", "z/a"],
        [step("allow-client-a-via-ns-selector (TCP/81 from ns y)", [create(port81_y)], ("TCP", 81),
              [expect_peer(P("x"), P("x", "a"), False), expect_peer(P("y"), P("x", "a"), True),
               expect_peer(P("z"), P("x", "a"), False)])])

    allow_y = [expect_peer(P("x"), P("x", "a"), False), expect_peer(P("y"), P("x", "a"), True),
               expect_peer(P("z"), P("x", "a"), False)]
    add("tcp-stacked-policies-overlapping-podselectors", "should enforce multiple, stacked policies with overlapping podSelectors",
        ["union", "ports-numeric", "before-after"], ["TCP"], [80, 81], ["x/a", "x/b", "y/a", "y/b", "z/a"],
        [step("allow TCP/81 from ns y; verify 81", [create(port81_y)], ("TCP", 81), allow_y),
         step("verify 80 (blocked for everyone)", [], ("TCP", 80), [all_ingress("x/a", False)]),
         step("add allow TCP/80 from ns y; verify 80",
              [create(netpol("allow-client-a-via-ns-selector-80", "x", pod_a(),
                             ingress=[rule([peer(ns=ns_is("y"))], [port(80, "TCP")])], types=["Ingress"]))],
              ("TCP", 80), allow_y)])

    add("tcp-allow-all", "should support allow-all policy", ["allow-all", "empty-rule"], ["TCP"], [80, 81], ["x/a", "x/b", "y/a"],
        [step("allow-all (ingress: [{}]); verify 80",
              [create(netpol("allow-all", "x", {}, ingress=[{}], types=["Ingress"]))], ("TCP", 80), []),
         step("verify 81", [], ("TCP", 81), [])])

    add("tcp-ingress-named-port-from-namespace", "should allow ingress access from namespace on one named port",
        ["named-port", "namespaceSelector", "ingress"], ["TCP"], [80, 81], ["x/a", "x/b", "y/a", "z/a"],
        [step("allow-client-a-via-ns-selector-80 (serve-80-tcp from ns y); verify 80",
              [create(netpol("allow-client-a-via-ns-selector-80", "x", pod_a(),
                             ingress=[rule([peer(ns=ns_is("y"))], [port("serve-80-tcp", "TCP")])], types=["Ingress"]))],
              ("TCP", 80), [expect_peer(P("x"), P("x", "a"), False), expect_peer(P("z"), P("x", "a"), False)]),
         step("verify 81 (blocked for everyone)", [], ("TCP", 81), [all_ingress("x/a", False)])])

    add("tcp-egress-named-port", "should allow egress access on one named port",
        ["named-port", "egress", "named-port-egress"], ["TCP"], [80, 81], ["x/a", "y/a"],
        [step("allow-egress (serve-80-tcp) for every pod of x; verify 80",
              [create(netpol("allow-egress", "x", {}, egress=[rule(None, [port("serve-80-tcp")], egress=True)], types=["Egress"]))],
              ("TCP", 80), []),
         step("verify 81", [], ("TCP", 81), [expect_peer(P("x"), P(), False)])])

    mutate = netpol("allow-all-mutate-to-deny-all", "x", {}, ingress=[{}], types=["Ingress"])
    add("tcp-updated-policy", "should enforce updated policy", ["update-policy", "before-after", "default-deny"],
        ["TCP"], [81], ["x/a", "y/a"],
        [step("allow-all-mutate-to-deny-all with ingress: [{}]", [create(mutate)], ("TCP", 81), []),
         step("update the policy to ingress: [] (deny all)",
              [update(netpol("allow-all-mutate-to-deny-all", "x", {}, ingress=[], types=["Ingress"]))], ("TCP", 81),
              [expect_peer(P(), P("x"), False)])])

    add("tcp-ingress-from-updated-namespace", "should allow ingress access from updated namespace",
        ["namespace-label-change", "before-after", "namespaceSelector"], ["TCP"], [80], ["x/a", "y/a"],
        [step("allow-client-a-via-ns-selector (ns2=updated); no namespace has the label",
              [create(netpol("allow-client-a-via-ns-selector", "x", pod_a(),
                             ingress=[rule([peer(ns=sel({"ns2": "updated"}))])], types=["Ingress"]))],
              ("TCP", 80), [all_ingress("x/a", False)]),
         step("add label ns2=updated to namespace y", [add_ns_labels("y", {"ns2": "updated"})], ("TCP", 80),
              [all_ingress("x/a", False), expect_peer(P("y"), P(), True)])])

    add("tcp-ingress-from-updated-pod", "should allow ingress access from updated pod",
        ["pod-label-change", "before-after", "podSelector"], ["TCP"], [80], ["x/a", "x/b"],
        [step("allow-client-a-via-pod-selector (pod=b, pod2=updated); x/b lacks pod2",
              [create(netpol("allow-client-a-via-pod-selector", "x", pod_a(),
                             ingress=[rule([peer(sel({"pod": "b", "pod2": "updated"}))])], types=["Ingress"]))],
              ("TCP", 80), [all_ingress("x/a", False)]),
         step("add labels pod=b, pod2=updated to x/b", [add_pod_labels("x", "b", {"pod": "b", "pod2": "updated"})],
              ("TCP", 80), [all_ingress("x/a", False), expect("x/b", "x/a", True)])])

    add("tcp-deny-ingress-from-other-namespaces", "should deny ingress from pods on other namespaces",
        ["podSelector-empty", "namespace-local-peer"], ["TCP"], [80], ["x/a", "x/b", "y/a", "z/a"],
        [step("deny-empty-policy: every pod of x, from [{podSelector: {}}]",
              [create(netpol("deny-empty-policy", "x", {}, ingress=[rule([peer(sel())])], types=["Ingress"]))],
              ("TCP", 80), [expect_peer(P("y"), P("x"), False), expect_peer(P("z"), P("x"), False)])])

    add("tcp-deny-egress-podselector", "should deny egress from pods based on PodSelector",
        ["default-deny", "egress"], ["TCP"], [80], ["x/a", "x/b", "y/a"],
        [step("deny-egress-pod-a", [create(netpol("deny-egress-pod-a", "x", pod_a(), egress=[], types=["Egress"]))],
              ("TCP", 80), [all_egress("x/a", False)])])

    add("tcp-deny-egress-namespace", "should deny egress from all pods in a namespace",
        ["default-deny", "egress"], ["TCP"], [80], ["x/a", "x/b", "y/a"],
        [step("deny-egress-ns-x", [create(netpol("deny-egress-ns-x", "x", {}, egress=[], types=["Egress"]))],
              ("TCP", 80), [expect_peer(P("x"), P(), False)])])

    together = netpol("allow-client-a-via-pod-selector", "x", pod_a(), ingress=[rule([peer(sel({"pod": "b"}))])],
                      egress=[rule(None, [port(80)], egress=True)], types=["Egress", "Ingress"])
    add("tcp-ingress-egress-together", "should work with Ingress, Egress specified together",
        ["ingress", "egress", "policyTypes-egress-first", "ports-numeric"], ["TCP"], [80, 81], ["x/a", "x/b", "x/c", "y/a"],
        [step("x/a: ingress from pod=b, egress to port 80, policyTypes [Egress, Ingress]; verify 80",
              [create(together)], ("TCP", 80), [all_ingress("x/a", False), expect("x/b", "x/a", True)]),
         step("verify 81", [], ("TCP", 81),
              [all_ingress("x/a", False), all_egress("x/a", False), expect("x/b", "x/a", True)])])

    xa_from = rule([peer(sel({"pod": "a"}), ns_is("x"))])
    add("tcp-egress-denied-on-client-side",
        "should support denying of egress traffic on the client side (even if the server explicitly allows this traffic)",
        ["egress", "ingress", "both-sides", "peer-and"], ["TCP"], [80], ["x/a", "y/a", "y/b"],
        [step("x/a may egress only to y/a; y/a and y/b admit x/a",
              [create(netpol("allow-to-ns-y-pod-a", "x", pod_a(),
                             egress=[rule([peer(sel({"pod": "a"}), ns_is("y"))], egress=True)], types=["Egress"])),
               create(netpol("allow-from-xa-on-ya-match-selector", "y", pod_a(), ingress=[xa_from], types=["Ingress"])),
               create(netpol("allow-from-xa-on-yb-match-selector", "y", sel({"pod": "b"}), ingress=[xa_from], types=["Ingress"]))],
              ("TCP", 80),
              [expect_peer(P("x", "a"), P(), False), expect_peer(P(), P("y", "a"), False),
               expect_peer(P("x", "a"), P("y", "a"), True), expect_peer(P(), P("y", "b"), False)])])

    add("tcp-egress-to-other-namespace-pod-and-ns-selector",
        "should enforce egress policy allowing traffic to a server in a different namespace based on PodSelector and NamespaceSelector",
        ["egress", "peer-and"], ["TCP"], [80], ["x/a", "y/a", "y/b"],
        [step("allow-to-ns-y-pod-a",
              [create(netpol("allow-to-ns-y-pod-a", "x", pod_a(),
                             egress=[rule([peer(sel({"pod": "a"}), ns_is("y"))], egress=True)], types=["Egress"]))],
              ("TCP", 80), [all_egress("x/a", False), expect("x/a", "y/a", True)])])

    add("tcp-udp-ingress-any-port-on-protocol",
        "should enforce ingress policy allowing any port traffic to a server on a specific protocol",
        ["protocol-only-port", "udp", "ingress"], ["TCP", "UDP"], [80], ["x/a", "y/a"],
        [step("allow-ingress-by-proto (ports: [{protocol: TCP}]); verify TCP/80",
              [create(netpol("allow-ingress-by-proto", "x", pod_a(), ingress=[rule(None, [port(None, "TCP")])], types=["Ingress"]))],
              ("TCP", 80), []),
         step("verify UDP/80", [], ("UDP", 80), [expect_peer(P(), P("x", "a"), False)])])

    add("tcp-multiple-egress-allow-all-wins", "should enforce multiple egress policies with egress allow-all policy taking precedence",
        ["union", "egress", "ports-numeric"], ["TCP"], [81], ["x/a", "y/a"],
        [step("allow-egress-port-80 for every pod of x; verify 81",
              [create(netpol("allow-egress-port-80", "x", {}, egress=[rule(None, [port(80)], egress=True)], types=["Egress"]))],
              ("TCP", 81), [expect_peer(P("x"), P(), False)]),
         step("add allow-egress (egress: [{}])",
              [create(netpol("allow-egress", "x", {}, egress=[{}], types=["Egress"]))], ("TCP", 81), [])])

    add("tcp-stop-enforcing-after-delete", "should stop enforcing policies after they are deleted",
        ["delete-policy", "before-after", "default-deny"], ["TCP"], [80], ["x/a", "y/a"],
        [step("deny-all (ingress and egress) in x", [create(deny_all)], ("TCP", 80),
              [expect_peer(P("x"), P(), False), expect_peer(P(), P("x"), False)]),
         step("delete every policy", [delete_all()], ("TCP", 80), [])])

    add("tcp-egress-ipblock-pod-cidr", "should allow egress access to server in CIDR block",
        ["ipBlock", "egress", "pod-ip-symbolic"], ["TCP"], [80], ["x/a", "y/a", "y/b"],
        [step("allow-client-a-via-cidr-egress-rule to <ip of y/b>/32",
              [create(netpol("allow-client-a-via-cidr-egress-rule", "x", pod_a(),
                             egress=[rule([peer(ip={"cidr": "<ip of y/b>/32"})], egress=True)], types=["Egress"]))],
              ("TCP", 80), [all_egress("x/a", False), expect("x/a", "y/b", True)])],
        symbols={"<ip of y/b>": "status.podIP of pod y/b (/32 IPv4, /128 IPv6)"})

    overlap_update = step("update the policy (same name) to allow only <ip of x/b>/32",
                          [update(netpol("allow-client-a-via-cidr-egress-rule", "x", pod_a(),
                                         egress=[rule([peer(ip={"cidr": "<ip of x/b>/32"})], egress=True)], types=["Egress"]))],
                          ("TCP", 80), [all_egress("x/a", False), expect("x/a", "x/b", True)])
    add("tcp-egress-ipblock-overlap-except", "should ensure an IP overlapping both IPBlock.CIDR and IPBlock.Except is allowed",
        ["ipBlock", "ipBlock-except", "egress", "update-policy", "pod-ip-symbolic"], ["TCP"], [80], ["x/a", "x/b", "x/c"],
        [step("allow egress from x/a to the /4 except x/b", [create(_cidr_except("<ip of x/b masked to /4>/4"))], ("TCP", 80),
              [expect("x/a", "x/b", False)]),
         overlap_update],
        symbols=dict(SYMBOLS_MASKED), notes=[IPBLOCK_NOTE],
        full3x3=[step("allow egress from x/a to <ip of x/a>/4 (host bits kept) except x/b",
                      [create(_cidr_except("<ip of x/a>/4"))], ("TCP", 80), [expect("x/a", "x/b", False)]),
                 overlap_update],
        full3x3_symbols=dict(SYMBOLS_UNMASKED))

    add("tcp-ingress-egress-controlled-independently",
        "should enforce policies to check ingress and egress policies can be controlled independently based on PodSelector",
        ["ingress", "egress", "before-after"], ["TCP"], [80], ["x/a", "x/b", "y/a"],
        [step("allow-egress-for-target (egress: [{}]) on x/a",
              [create(netpol("allow-egress-for-target", "x", pod_a(), egress=[{}], types=["Egress"]))], ("TCP", 80), []),
         step("add deny-ingress-via-label-selector on x/a",
              [create(netpol("deny-ingress-via-label-selector", "x", pod_a(), types=["Ingress"]))], ("TCP", 80),
              [all_ingress("x/a", False)])])

    add("tcp-sctp-policy-not-treated-as-tcp",
        "should not mistakenly treat 'protocol: SCTP' as 'protocol: TCP', even if the plugin doesn't support SCTP",
        ["sctp", "protocol-distinct", "default-deny"], ["TCP"], [81], ["x/a", "y/a"],
        [step("deny-ingress in x, allow-only-sctp-ingress-on-port-81 on x/a; probe TCP/81",
              [create(netpol("deny-ingress", "x", {}, types=["Ingress"])),
               create(netpol("allow-only-sctp-ingress-on-port-81", "x", pod_a(), ingress=[rule(None, [port(81, "SCTP")])],
                             types=["Ingress"]))],
              ("TCP", 81), [expect_peer(P(), P("x"), False)])])

    add("tcp-sctp-policy-isolates", "should properly isolate pods that are selected by a policy allowing SCTP, even if the plugin doesn't support SCTP",
        ["sctp", "protocol-distinct", "isolation"], ["TCP"], [81], ["x/a", "y/a"],
        [step("allow-only-sctp-ingress-on-port-80 on x/a; probe TCP/81",
              [create(netpol("allow-only-sctp-ingress-on-port-80", "x", pod_a(), ingress=[rule(None, [port(80, "SCTP")])],
                             types=["Ingress"]))],
              ("TCP", 81), [all_ingress("x/a", False)])])

    add("tcp-udp-only-policy-blocks-tcp", "should not allow access by TCP when a policy specifies only UDP",
        ["udp", "protocol-distinct", "isolation"], ["TCP"], [81], ["x/a", "y/a"],
        [step("allow-only-udp-ingress-on-port-81 on x/a; probe TCP/81",
              [create(netpol("allow-only-udp-ingress-on-port-81", "x", pod_a(), ingress=[rule(None, [port(81, "UDP")])],
                             types=["Ingress"]))],
              ("TCP", 81), [all_ingress("x/a", False)])])

    add("tcp-nsselector-default-ns-label", "should enforce policy to allow traffic based on NamespaceSelector with MatchLabels using default ns label",
        ["namespaceSelector", "default-ns-label"], ["TCP"], [80], ["x/a", "x/b", "y/a", "z/a"],
        [step("allow-client-a-via-ns-selector-for-immutable-ns-label (kubernetes.io/metadata.name=y)",
              [create(netpol("allow-client-a-via-ns-selector-for-immutable-ns-label", "x", pod_a(),
                             ingress=[rule([peer(ns=ns_is("y"))])], types=["Ingress"]))],
              ("TCP", 80), [expect_peer(P("x"), P("x", "a"), False), expect_peer(P("z"), P("x", "a"), False)])])

    add("tcp-egress-nsselector-notin-default-ns-label",
        "should enforce policy based on NamespaceSelector with MatchExpressions using default ns label",
        ["egress", "namespaceSelector", "matchExpressions-NotIn", "default-ns-label"], ["TCP"], [80], ["x/a", "x/b", "y/a", "z/a"],
        [step("x/a may egress to namespaces NotIn (y)",
              [create(netpol("allow-ns-y-match-selector-for-immutable-ns-label", "x", pod_a(),
                             egress=[rule([peer(ns=sel(exprs=[expr(NS_LABEL, "NotIn", ["y"])]))], egress=True)],
                             types=["Egress"]))],
              ("TCP", 80), [expect_peer(P("x", "a"), P("y"), False)])])

    for proto, describe in (("UDP", DESCRIBE_UDP), ("SCTP", DESCRIBE_SCTP)):
        low = proto.lower()
        add(f"{low}-default-deny-ingress", "should support a 'default-deny-ingress' policy", ["default-deny", "ingress", low],
            [proto], [80], ["x/a", "x/b", "y/a", "y/b"],
            [step("deny-all ingress in x", [create(netpol("deny-all", "x", {}, types=["Ingress"]))], (proto, 80),
                  [expect_peer(P(), P("x"), False)])], describe=describe)
        add(f"{low}-pod-in-other-namespace-pod-and-ns-selector",
            "should enforce policy to allow traffic only from a pod in a different namespace based on PodSelector and NamespaceSelector",
            ["peer-and", low], [proto], [80], ["x/a", "x/b", "y/a"],
            [step("one peer: namespace y AND pod=a",
                  [create(netpol("allow-ns-y-pod-a-via-namespace-pod-selector", "x", pod_a(),
                                 ingress=[rule([peer(sel({"pod": "a"}), ns_is("y"))])], types=["Ingress"]))],
                  (proto, 80), [all_ingress("x/a", False), expect("y/a", "x/a", True)])], describe=describe)
    add("udp-ports", "should enforce policy based on Ports", ["ports-numeric", "namespaceSelector", "udp"],
        ["UDP"], [81], ["x/a", "x/b", "y/a", "z/a"],
        [step("allow-ingress-on-port-81-ns-x (UDP/81 from ns y)",
              [create(netpol("allow-ingress-on-port-81-ns-x", "x", pod_a(),
                             ingress=[rule([peer(ns=ns_is("y"))], [port(81, "UDP")])], types=["Ingress"]))],
              ("UDP", 81), [expect_peer(P("x"), P("x", "a"), False), expect_peer(P("z"), P("x", "a"), False)])],
        describe=DESCRIBE_UDP)
    return T


# ------------------------------------------------------------------ state and output
def model_pods(pods: list[str], protocols: list[str], ports: list[int]) -> list[dict[str, Any]]:
    """One pod per ``ns/name``, label pod=<name>, one port per (port, protocol) as model.go builds them."""
    out = []
    for key in pods:
        ns, name = key.split("/")
        cports = [{"name": f"serve-{p}-{proto.lower()}", "containerPort": p, "protocol": proto} for p in ports for proto in protocols]
        out.append({"namespace": ns, "name": name, "labels": {"pod": name}, "containers": [{"name": "agnhost", "ports": cports}]})
    return out


def apply(state: dict[str, Any], action: dict[str, Any]) -> None:
    (kind, arg), = action.items()
    if kind == "create_policy":
        assert not any(p["metadata"] == arg["metadata"] for p in state["policies"]), "create of an existing policy"
        state["policies"].append(copy.deepcopy(arg))
    elif kind == "update_policy":
        idx = [i for i, p in enumerate(state["policies"]) if p["metadata"] == arg["metadata"]]
        assert len(idx) == 1, "update of a missing policy"
        state["policies"][idx[0]] = copy.deepcopy(arg)
    elif kind == "delete_all_policies":
        state["policies"] = [p for p in state["policies"] if p["metadata"]["namespace"] not in arg["namespaces"]]
    elif kind == "add_pod_labels":
        pod = next(p for p in state["pods"] if p["namespace"] == arg["namespace"] and p["name"] == arg["pod"])
        pod["labels"].update(arg["labels"])
    elif kind == "add_namespace_labels":
        ns = next(n for n in state["namespaces"] if n["name"] == arg["namespace"])
        ns["labels"].update(arg["labels"])
    else:
        raise ValueError(kind)


class _Flow(dict):  # type: ignore[type-arg]
    pass


class _Block(str):
    pass


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:  # every object written out in full, no anchors
        return True


_Dumper.add_representer(_Flow, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", v.items(), flow_style=True))
_Dumper.add_representer(_Block, lambda d, v: d.represent_scalar("tag:yaml.org,2002:str", str(v), style="|"))


def render_table(pods: list[str], table: dict[tuple[str, str], bool]) -> str:
    width = max(len("from\\to"), *(len(p) for p in pods))
    lines = ["from\\to".rjust(width) + "".join(f" {p:>3}" for p in pods)]
    for s in pods:
        lines.append(s.rjust(width) + "".join(f" {'.' if table[(s, d)] else 'X':>{max(3, len(d))}}" for d in pods))
    return "\n".join(lines) + "\n"


FULL_PODS = [f"{ns}/{p}" for ns in NAMESPACES for p in ("a", "b", "c")]
FULL_VERSION = ("stored version 9db638c0807a720aa050ebcef69c32e4d4cce280 (every test on the full model: "
                "namespaces x, y, z with pods a, b, c each); index id 245977350")


def variants(t: dict[str, Any]) -> list[dict[str, Any]]:
    """The test as written out: ``current`` (its own pod topology, unless the shared folder has it)
    and ``full3x3`` (the older version of the same test, on all nine pods)."""
    out = []
    if not t["shared"]:
        out.append(dict(t, variant="current", version=VERSION))
    full = dict(t, variant="full3x3", version=FULL_VERSION, name=f"{t['name']}-full3x3", pods=FULL_PODS,
                steps=t["full3x3"] or t["steps"], symbols=t["full3x3_symbols"] or t["symbols"])
    if t["full3x3_symbols"]:
        full["notes"] = t["notes"] + ["The /4 is written '<ip of x/a>/4' with the host bits kept (e.g. 10.244.1.5/4), "
                                      "as the older upstream code builds it; semantically the /4 network."]
    out.append(full)
    return out


def build_case(t: dict[str, Any]) -> dict[str, Any]:
    """``t``: one entry of :func:`variants`."""
    pods = sorted(t["pods"])
    state: dict[str, Any] = {
        "namespaces": [{"name": n, "labels": {NS_LABEL: n}} for n in NAMESPACES],
        "pods": model_pods(pods, t["protocols"], t["ports"]),
        "policies": [],
    }
    labels = ["Feature:NetworkPolicy"] + (["Feature:SCTPConnectivity"] if t["describe"] == DESCRIBE_SCTP else [])
    case: dict[str, Any] = {
        "schema_version": 1,
        "name": t["name"],
        "variant": t["variant"],
        "source": {"repo": "kubernetes/kubernetes", "file": SOURCE_FILE, "version": t["version"],
                   "describe": t["describe"], "test": t["test"], "labels": labels},
        "covers": t["covers"],
        "notes": t["notes"],
        "symbols": t["symbols"],
        "model": {"ports": t["ports"], "protocols": t["protocols"], "namespaces": copy.deepcopy(state["namespaces"]),
                  "pods": copy.deepcopy(state["pods"])},
        "steps": [],
    }
    for n, s in enumerate(t["steps"], 1):
        for action in s["actions"]:
            apply(state, action)
        proto, number = s["probe"]
        assert proto in t["protocols"] and number in t["ports"], f"{t['name']}: probe {proto}/{number} not served"
        table = truth_table(pods, s["calls"])
        case["steps"].append({
            "step": n,
            "description": s["description"],
            "actions": copy.deepcopy(s["actions"]),
            "state": copy.deepcopy(state),
            "probe": {"port": number, "protocol": proto, "from": "every pod in the model",
                      "to": "every pod in the model (via its Service ClusterIP)"},
            "expected_table": _Block(render_table(pods, table)),
            "expected": [
                _Flow({"from": a, "to": b, "port": number, "protocol": proto, "allowed": table[(a, b)],
                       **({"loopback_ignored_upstream": True} if a == b else {})})
                for a in pods for b in pods
            ],
        })
    return case


HEADER = ("# Transcribed by tests/engine/upstream_transcribe.py from upstream kubernetes "
          "test/e2e/network/netpol/network_policy.go\n"
          "# (expected table = upstream's Reachability expectations for this test, not netfence's output)\n")


def all_cases() -> list[dict[str, Any]]:
    """Every case written to ``upstream_cases/`` (entries of :func:`variants`)."""
    return [v for t in _tests() for v in variants(t)]


def render(t: dict[str, Any]) -> str:
    """The YAML text of one transcribed test."""
    return HEADER + yaml.dump(build_case(t), Dumper=_Dumper, sort_keys=False, width=200, allow_unicode=True)


def main() -> None:
    OUT.mkdir(exist_ok=True)
    cases = all_cases()
    names = [c["name"] for c in cases]
    assert len(names) == len(set(names)), "duplicate case name"
    for old in OUT.glob("*.yaml"):
        if old.stem not in names:
            old.unlink()
    for c in cases:
        (OUT / f"{c['name']}.yaml").write_text(render(c), encoding="utf-8")
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
