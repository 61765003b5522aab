"""Hidden checks for exercise 10, training: the reference's losses and parameters on another data
set and network, and a single example."""

import numpy as np

from grader.checks import check, expect_array, expect_matches_reference, expect_pair, fail


@check(points=2)
def test_training_matches_reference(student, solution, rng):
    """train agrees with the reference, update for update, for other sizes, rates and N = 1."""
    for sizes, n, rate, epochs in [([5, 6, 4, 2], 12, 0.3, 25), ([5, 3], 1, 1.0, 10)]:
        x = rng.normal(size=(n, 5))
        labels = rng.integers(0, sizes[-1], size=n)
        seed = int(rng.integers(1000))
        call = f"train(x ({n}, 5), labels, {sizes}, rate={rate:g}, epochs={epochs}, seed={seed})"
        params, losses = expect_pair(student.train(x, labels, sizes, rate, epochs, seed), call)
        expected_params, expected_losses = solution.train(x, labels, sizes, rate, epochs, seed)
        expect_matches_reference(
            expect_array(losses, call + " losses", (epochs,)), expected_losses, call + " losses"
        )
        if not isinstance(params, dict) or sorted(params) != sorted(expected_params):
            fail(f"{call} did not return parameters keyed {sorted(expected_params)}")
        for key, value in expected_params.items():
            expect_matches_reference(
                expect_array(params[key], f"{call}[{key!r}]", value.shape),
                value,
                f"{call}[{key!r}]",
            )
        accuracy = solution.accuracy(x, labels, expected_params)
        got = student.accuracy(x, labels, expected_params)
        expect_matches_reference(np.float64(got), accuracy, f"accuracy after {call}")
