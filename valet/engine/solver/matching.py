"""The largest matching of rows to distinct columns (the counts of
``proofs.py``: units to domains, groups to clean domains)."""


def largest(options, work_cap):
    """The largest number of rows matched to distinct columns (``options``
    lists each row's columns), or None when ``work_cap`` augmenting-path
    steps did not finish it (work, not time: the same input gives the
    same verdict on any machine).

    A row with at least as many columns as there are rows always finds a
    free one, so only the others are matched by augmenting paths.
    """
    rows = len(options)
    hard = [r for r in range(rows) if len(options[r]) < rows]
    # Only the hard rows are walked (they alone own columns): their
    # columns as plain ints, read one by one.
    options = {r: _ints(options[r]) for r in hard}
    if hard and _alike(options, hard, work_cap):
        # Rows that all list the same columns match as many of them as
        # there are (what ``augment`` finds within the cap, see
        # ``_alike``).
        return min(len(hard), len(options[hard[0]])) + (rows - len(hard))
    matched = augment(options, hard, work_cap)
    return None if matched is None else matched + (rows - len(hard))


def augment(options, hard, work_cap):
    """How many of the ``hard`` rows augmenting paths match to distinct
    columns (``options``: per hard row its columns as ints), or None past
    ``work_cap`` steps."""
    owner = {}
    work = 0
    matched = 0
    for r in sorted(hard, key=lambda r: len(options[r])):
        seen = set()
        stack = [(r, iter(options[r]))]
        path = []
        found = False
        while stack:
            row, cols = stack[-1]
            col = next(cols, None)
            work += 1
            if work > work_cap:
                return None
            if col is None:
                stack.pop()
                if path:
                    path.pop()
                continue
            if col in seen:
                continue
            seen.add(col)
            path.append(col)
            if col not in owner:
                found = True
                break
            nxt = owner[col]
            stack.append((nxt, iter(options[nxt])))
        if found:
            # Flip the path: each row on it takes the column after it.
            for (row, _), col in zip(stack, path):
                owner[col] = row
            matched += 1
        else:
            path.clear()
    return matched


def _ints(columns):
    """A row's columns as a list of ints (an array's in one call)."""
    if hasattr(columns, 'tolist'):
        return columns.tolist()
    return [int(col) for col in columns]


def _alike(options, hard, work_cap):
    """Whether the hard rows all list the same distinct columns and the
    augmenting-path search is sure to finish within ``work_cap``: each
    row's search has at most one frame per column (and its own), each
    frame reads its row's columns and one end, so it takes at most
    (columns + 1) ** 2 steps."""
    first = options[hard[0]]
    if len(hard) * (len(first) + 1) ** 2 > work_cap:
        return False
    if len(set(first)) != len(first):
        return False
    return all(options[r] == first for r in hard)
