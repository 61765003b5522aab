"""Exercise 4: gradient descent.

The gradient points to where a function rises fastest, so a small step against it goes downhill:

    x_new = x - rate · ∇f(x)

Repeating that step is gradient descent, the way every network in this course learns. The rate
decides everything: on the bowl z = x² + y² (gradient 2·(x, y)) a small rate slides to the bottom,
rate 1 jumps to the opposite side and back forever, and a larger rate overshoots further each step.
"""

import numpy as np


def gradient_step(x, grad, rate):
    """One step of gradient descent: x - rate · grad.

    Inputs:
    - x: the current point, an array of shape (n,); it must not be changed
    - grad: the gradient of f at x, an array of shape (n,)
    - rate: the learning rate, a float

    Returns:
    - the new point, a new array of shape (n,)

    Example: gradient_step(np.array([1.0, 2.0]), np.array([2.0, 4.0]), 0.1) gives
    array([0.8, 1.6])
    """
    return x - rate * grad


def gradient_descent(grad_f, x0, rate, steps):
    """Run ``steps`` steps of gradient descent from x0 and return every point visited.

    Inputs:
    - grad_f: a function returning the gradient at a point, an array of shape (n,)
    - x0: the starting point, an array of shape (n,); it must not be changed
    - rate: the learning rate, a float
    - steps: how many steps to take, an int >= 0

    Returns:
    - path: an array of shape (steps + 1, n); path[0] is x0 and path[k + 1] is one step from
      path[k]. It is returned even when the steps diverge (the values may then overflow to inf).

    Example: on the bowl, gradient_descent(lambda p: 2 * p, np.array([1.0, 1.0]), 0.25, 2) gives
    array([[1., 1.], [0.5, 0.5], [0.25, 0.25]])
    """
    path = np.zeros((steps + 1, len(x0)))
    path[0] = x0
    for k in range(steps):
        path[k + 1] = gradient_step(path[k], grad_f(path[k]), rate)
    return path


def descend_until_flat(grad_f, x0, rate, tolerance, max_steps):
    """Descend from x0 until the gradient's length is below ``tolerance``, or max_steps are taken.

    Inputs:
    - grad_f: a function returning the gradient at a point, an array of shape (n,)
    - x0: the starting point, an array of shape (n,); it must not be changed
    - rate: the learning rate, a float
    - tolerance: stop at the first point whose gradient has length below this, a float > 0
    - max_steps: the most steps to take, an int >= 0

    Returns a tuple of:
    - x: the point where descent stopped, an array of shape (n,)
    - steps: how many steps were taken, an int (0 if x0 is already flat)

    Example: on the bowl with rate 0.25, descend_until_flat(lambda p: 2 * p, np.array([1.0]),
    0.25, 0.1, 100) gives (array([0.03125]), 5): each step halves x, and 2·x < 0.1 first at x = 1/32
    """
    x = np.array(x0, dtype=np.float64)
    for steps in range(max_steps):
        grad = grad_f(x)
        if np.linalg.norm(grad) < tolerance:
            return x, steps
        x = gradient_step(x, grad, rate)
    return x, max_steps
