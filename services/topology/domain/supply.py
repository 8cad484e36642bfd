"""Who supplies whom with every device in its normal state: one rooted tree per source.

The forest is what makes a trace cost what the touched feeders cost rather than what the city
costs. Each node belongs to one tree: the tree of the source that reaches it first in a
breadth-first search over closed devices from all sources at once, or, for a group of nodes
no source reaches (an island), a tree rooted at its smallest node id. Within a tree, nodes are
numbered in depth-first preorder, so every subtree is one interval ``[pos, pos + size)``:
"everything downstream of this switch" is two numbers, and its customers are one slice of the
tree's account list, which is laid out in the same order.

Devices that are not tree edges (normally-open ties, and closed devices that close a loop)
are kept per node, with the sorted positions of the nodes that have any, so a trace finds the
ties inside a cut-off interval by bisection.

A feeder is a sourced tree: it is derived from the supply paths, never stored.

Ties are broken the same way whatever order rows arrived in, and whether the forest was built
whole (igraph, at start-up) or in part after a change batch (Python): sources in id order,
neighbours in id order, the smallest device id between two nodes.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence

import igraph

from services.topology.domain.grid import Grid, closed_neighbours

AccountsAt = Callable[[int], Sequence[str]]


class Tree:
    """One source's supply tree (``sourced``), or an island that no source reaches.

    ``group`` is the smallest source of the closed component the tree lies in: sourced trees
    with the same group are paralleled in the normal state. ``findings`` is filled by the
    checks on first use; a tree is replaced, never changed, when a change batch touches it.
    """

    __slots__ = (
        "acc_start",
        "accounts",
        "customer_positions",
        "findings",
        "group",
        "nontree",
        "nontree_positions",
        "order",
        "root",
        "sourced",
    )

    def __init__(self, root: int, sourced: bool, order: array[int]) -> None:
        self.root = root
        self.sourced = sourced
        self.group = root
        self.order = order
        self.acc_start: array[int] = array("i", [0])
        self.accounts: list[str] = []
        self.customer_positions: array[int] = array("i")
        self.nontree: dict[int, list[int]] = {}
        self.nontree_positions: array[int] = array("i")
        self.findings: object | None = None

    @property
    def size(self) -> int:
        return len(self.order)

    @property
    def customers(self) -> int:
        return self.acc_start[-1]

    def customers_between(self, low: int, high: int) -> int:
        return self.acc_start[high] - self.acc_start[low]

    def accounts_between(self, low: int, high: int) -> list[str]:
        """The accounts of the nodes at positions ``[low, high)``: one slice."""
        return self.accounts[self.acc_start[low] : self.acc_start[high]]

    def customer_positions_between(self, low: int, high: int) -> array[int]:
        positions = self.customer_positions
        return positions[bisect_left(positions, low) : bisect_left(positions, high)]

    def nontree_positions_between(self, low: int, high: int) -> array[int]:
        positions = self.nontree_positions
        return positions[bisect_left(positions, low) : bisect_left(positions, high)]


class SupplyForest:
    """The trees, keyed by root vertex, and per vertex: its tree, preorder position, subtree
    size, the device towards its parent (-1 at a root) and its transformer area (-1: none)."""

    __slots__ = ("area", "parent_edge", "pos", "size", "tree_of", "trees")

    def __init__(
        self,
        trees: dict[int, Tree],
        tree_of: array[int],
        pos: array[int],
        size: array[int],
        parent_edge: array[int],
        area: array[int],
    ) -> None:
        self.trees = trees
        self.tree_of = tree_of
        self.pos = pos
        self.size = size
        self.parent_edge = parent_edge
        self.area = area

    def tree(self, vertex: int) -> Tree:
        return self.trees[self.tree_of[vertex]]

    def accounts_at(self, vertex: int) -> list[str]:
        tree = self.trees[self.tree_of[vertex]]
        p = self.pos[vertex]
        return tree.accounts[tree.acc_start[p] : tree.acc_start[p + 1]]

    def subtree_customers(self, vertex: int) -> int:
        tree = self.trees[self.tree_of[vertex]]
        p = self.pos[vertex]
        return tree.customers_between(p, p + self.size[vertex])

    def children(self, vertex: int) -> Iterator[int]:
        """The vertex's children in its tree, in preorder."""
        order = self.trees[self.tree_of[vertex]].order
        p, end = self.pos[vertex] + 1, self.pos[vertex] + self.size[vertex]
        size = self.size
        while p < end:
            child = order[p]
            yield child
            p += size[child]

    @classmethod
    def empty(cls) -> SupplyForest:
        return cls({}, *(array("i") for _ in range(5)))

    def is_tree_edge(self, grid: Grid, edge: int) -> bool:
        start, end = grid.endpoints(edge)
        return self.parent_edge[start] == edge or self.parent_edge[end] == edge

    @property
    def customer_count(self) -> int:
        return sum(tree.customers for tree in self.trees.values())

    def rebuilt(self, grid: Grid, dirty: Iterable[int], accounts_at: AccountsAt) -> SupplyForest:
        """The forest of ``grid`` (this forest's grid after a change batch), rebuilding only
        the closed components that hold a ``dirty`` vertex; ``accounts_at`` gives every
        vertex's accounts after the batch.

        Every vertex of a tree that held a dirty vertex lies in such a component: the tree
        path to it is either unchanged, hence still closed, or passes a changed device, whose
        ends are dirty themselves. So the old trees of the rebuilt vertices can be dropped
        whole.
        """
        grown = len(grid.node_ids) - len(self.tree_of)
        tree_of, pos, size, parent_edge, area = (
            array("i", values) for values in (self.tree_of, self.pos, self.size,
                                              self.parent_edge, self.area)
        )  # fmt: skip
        for values in (tree_of, pos, size, parent_edge, area):
            values.extend([-1] * grown)
        cover = _closed_components(grid, dirty)
        trees = dict(self.trees)
        for vertex in cover:
            root = self.tree_of[vertex] if vertex < len(self.tree_of) else -1
            trees.pop(root, None)
        forest = SupplyForest(trees, tree_of, pos, size, parent_edge, area)
        order = _python_bfs(grid, cover, parent_edge)
        trees.update(_grow(grid, forest, order, accounts_at))
        return forest


def build_forest(grid: Grid, accounts_at: AccountsAt) -> SupplyForest:
    """The whole forest, with igraph's breadth-first search over the closed devices.

    A virtual vertex joined to every source and to the smallest vertex of each island roots a
    single search; igraph visits neighbours in vertex order, which is id order in a grid built
    from a whole bundle, so the trees equal those :meth:`SupplyForest.rebuilt` grows.
    """
    n = grid.vertex_count
    if not grid.id_ordered:
        # igraph orders by vertex number, which no longer follows the ids.
        return SupplyForest.empty().rebuilt(grid, range(n), accounts_at)
    closed_edges = [e for e in range(grid.edge_count) if grid.present[e] and grid.closed[e]]
    ends = grid.ends
    normal = igraph.Graph(n=n, edges=[(ends[2 * e], ends[2 * e + 1]) for e in closed_edges])
    membership = normal.connected_components().membership
    roots = _component_roots(membership, grid)
    normal.add_vertices(1)
    normal.add_edges([(n, root) for root in roots])
    visited, _layers, parents = normal.bfs(n)
    order: list[int] = visited[1:]

    parent_edge = array("i", [-1]) * n
    pairs = [(parents[v], v) for v in order if parents[v] != n]
    children = [v for v in order if parents[v] != n]
    for child, eid in zip(children, normal.get_eids(pairs), strict=True):
        parent_edge[child] = closed_edges[eid]
    # get_eids picks any of several devices between the same two nodes; the rule is the
    # smallest, so those few pairs are settled by hand.
    multiple = normal.is_multiple()
    doubled = {
        (min(ends[2 * e], ends[2 * e + 1]), max(ends[2 * e], ends[2 * e + 1]))
        for eid, e in enumerate(closed_edges)
        if multiple[eid]
    }
    if doubled:
        edge_key = grid.edge_key()
        for parent, child in pairs:
            if (min(parent, child), max(parent, child)) in doubled:
                parent_edge[child] = min(
                    (e for e, w in closed_neighbours(grid, child) if w == parent), key=edge_key
                )

    forest = SupplyForest(
        {},
        array("i", [-1]) * n,
        array("i", [-1]) * n,
        array("i", [-1]) * n,
        parent_edge,
        array("i", [-1]) * n,
    )
    forest.trees.update(_grow(grid, forest, order, accounts_at))
    return forest


def _component_roots(membership: list[int], grid: Grid) -> list[int]:
    """The sources, and the smallest vertex of each component without a source."""
    sources = [v for v in range(grid.vertex_count) if grid.is_source(v)]
    sourced = {membership[v] for v in sources}
    first: dict[int, int] = {}
    for vertex, component in enumerate(membership):
        if component not in sourced:
            first.setdefault(component, vertex)
    return sources + list(first.values())


def _closed_components(grid: Grid, starts: Iterable[int]) -> set[int]:
    """Every vertex joined to one of ``starts`` through present closed devices."""
    seen = set(starts)
    pending = list(seen)
    while pending:
        vertex = pending.pop()
        for _edge, other in closed_neighbours(grid, vertex):
            if other not in seen:
                seen.add(other)
                pending.append(other)
    return seen


def _python_bfs(grid: Grid, cover: set[int], parent_edge: array[int]) -> list[int]:
    """Breadth-first order of ``cover`` (whole closed components) under the tie rule, writing
    each vertex's parent device into ``parent_edge``."""
    key, edge_key = grid.vertex_key(), grid.edge_key()
    seen: set[int] = set()
    order: list[int] = []

    def search(starts: list[int]) -> None:
        queue = deque(starts)
        for start in starts:
            seen.add(start)
            parent_edge[start] = -1
        while queue:
            vertex = queue.popleft()
            order.append(vertex)
            reached = sorted(
                ((other, edge) for edge, other in closed_neighbours(grid, vertex)),
                key=lambda pair: (key(pair[0]), edge_key(pair[1])),
            )
            for other, edge in reached:
                if other not in seen:
                    seen.add(other)
                    parent_edge[other] = edge
                    queue.append(other)

    search(sorted((v for v in cover if grid.is_source(v)), key=key))
    for vertex in sorted(cover, key=key):
        if vertex not in seen:
            search([vertex])
    return order


def _grow(
    grid: Grid, forest: SupplyForest, order: list[int], accounts_at: AccountsAt
) -> dict[int, Tree]:
    """Trees from a breadth-first ``order`` whose parent devices are already in the forest.

    In breadth-first order a parent comes before its children, and the children of one
    vertex come one after the other, so preorder positions are handed out in one pass once
    subtree sizes are known.
    """
    tree_of, pos, size, parent_edge, area = (
        forest.tree_of,
        forest.pos,
        forest.size,
        forest.parent_edge,
        forest.area,
    )
    ends = grid.ends
    parent: dict[int, int] = {}
    for vertex in order:
        size[vertex] = 1
        edge = parent_edge[vertex]
        if edge >= 0:
            first = ends[2 * edge]
            parent[vertex] = ends[2 * edge + 1] if first == vertex else first
    for vertex in reversed(order):
        up = parent.get(vertex)
        if up is not None:
            size[up] += size[vertex]

    roots: list[int] = []
    current, slot = -1, 0
    for vertex in order:
        up = parent.get(vertex)
        is_area = grid.is_transformer_area(vertex)
        if up is None:
            roots.append(vertex)
            tree_of[vertex] = vertex
            pos[vertex] = 0
            area[vertex] = vertex if is_area else -1
            continue
        if up != current:
            current, slot = up, pos[up] + 1
        pos[vertex] = slot
        slot += size[vertex]
        tree_of[vertex] = tree_of[up]
        area[vertex] = vertex if is_area else area[up]

    trees = {
        root: Tree(root, grid.is_source(root), array("i", bytes(4 * size[root]))) for root in roots
    }
    for vertex in order:
        trees[tree_of[vertex]].order[pos[vertex]] = vertex

    for tree in trees.values():
        _lay_out_accounts(tree, accounts_at)
        _find_non_tree_devices(grid, forest, tree)
    _group_paralleled(grid, forest, trees)
    return trees


def _lay_out_accounts(tree: Tree, accounts_at: AccountsAt) -> None:
    starts, accounts, positions = tree.acc_start, tree.accounts, tree.customer_positions
    for p, vertex in enumerate(tree.order):
        here = accounts_at(vertex)
        if here:
            accounts.extend(here)
            positions.append(p)
        starts.append(len(accounts))


def _find_non_tree_devices(grid: Grid, forest: SupplyForest, tree: Tree) -> None:
    parent_edge, pos = forest.parent_edge, forest.pos
    nontree = tree.nontree
    for vertex in tree.order:
        for edge in grid.incident(vertex):
            if edge == parent_edge[vertex] or parent_edge[grid.other_end(edge, vertex)] == edge:
                continue
            nontree.setdefault(vertex, []).append(edge)
    tree.nontree_positions = array("i", sorted(pos[v] for v in nontree))


def _group_paralleled(grid: Grid, forest: SupplyForest, trees: dict[int, Tree]) -> None:
    """Give sourced trees joined by closed devices their smallest source as ``group``.

    The trees grown together are whole closed components, so no closed device joins one of
    them to a tree outside ``trees``.
    """
    link: dict[int, int] = {}

    def find(root: int) -> int:
        while link.get(root, root) != root:
            root = link[root]
        return root

    for tree in trees.values():
        for vertex, edges in tree.nontree.items():
            for edge in edges:
                if grid.closed[edge]:
                    other = forest.tree_of[grid.other_end(edge, vertex)]
                    a, b = find(tree.root), find(other)
                    if a != b:
                        link[a] = b
    key = grid.vertex_key()
    smallest: dict[int, int] = {}
    for tree in trees.values():
        if tree.sourced:
            top = find(tree.root)
            known = smallest.get(top)
            if known is None or key(tree.root) < key(known):
                smallest[top] = tree.root
    for tree in trees.values():
        tree.group = smallest.get(find(tree.root), tree.root) if tree.sourced else tree.root
