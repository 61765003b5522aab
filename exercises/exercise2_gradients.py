"""Exercise 2: partial derivatives and gradients.

A function of several variables has one derivative per variable. The partial derivative along axis
j keeps every other variable fixed and nudges only x_j:

    ∂f/∂x_j = lim_{h -> 0} (f(x_0, ..., x_j + h, ..., x_n) - f(x_0, ..., x_j, ..., x_n)) / h

The gradient ∇f is the vector (or array) of all the partial derivatives. It points in the direction
in which f increases fastest; gradient descent steps the opposite way.

Fill in each function below where it says `# YOUR CODE HERE`,
then check your work with `grade exercise2`.
"""

import numpy as np


def partial_derivative(f, point, axis, h=1e-5):
    """Estimate ∂f/∂x_axis at ``point`` by a central difference along that axis only.

    Inputs:
    - f: a function taking an array of shape (n,) and returning a float
    - point: an array of shape (n,); it must not be changed
    - axis: which variable to differentiate by, an int in 0..n-1
    - h: the step, a small positive float

    Returns:
    - (f(point + h·e) - f(point - h·e)) / (2h), a float, where e is 1 at ``axis`` and 0 elsewhere

    Example: for f(p) = 3·p[0] + 2·p[1], partial_derivative(f, np.array([1.0, 5.0]), 1) is 2.0
    """
    # YOUR CODE HERE
    raise NotImplementedError


def numerical_gradient(f, x, h=1e-5):
    """Estimate the gradient of f at x: the central difference along every entry of x.

    Inputs:
    - f: a function taking an array shaped like x and returning a float
    - x: an array of any shape, for example (3,) or (2, 4); it must be unchanged afterwards
    - h: the step, a small positive float

    Returns:
    - grad: an array shaped like x; grad[i] = (f(x + h·e_i) - f(x - h·e_i)) / (2h), where e_i is
      1 at index i and 0 elsewhere

    Example: for f(v) = np.sum(v**2), numerical_gradient(f, np.array([1.0, -2.0])) is about
    array([2., -4.])
    """
    # YOUR CODE HERE
    raise NotImplementedError


def plane(x, y):
    """The lesson's z = 3x + 2y.

    Inputs:
    - x, y: floats

    Returns:
    - z, a float

    Example: plane(1.0, 1.0) == 5.0
    """
    # YOUR CODE HERE
    raise NotImplementedError


def plane_gradient(x, y):
    """The exact gradient of z = 3x + 2y: [∂z/∂x, ∂z/∂y] = [3, 2] at every point.

    Inputs:
    - x, y: floats

    Returns:
    - an array of shape (2,): [∂z/∂x, ∂z/∂y]

    Example: plane_gradient(1.0, 1.0) gives array([3., 2.])
    """
    # YOUR CODE HERE
    raise NotImplementedError


def bowl(x, y):
    """The lesson's z = x² + y².

    Inputs:
    - x, y: floats

    Returns:
    - z, a float

    Example: bowl(1.0, 2.0) == 5.0
    """
    # YOUR CODE HERE
    raise NotImplementedError


def bowl_gradient(x, y):
    """The exact gradient of z = x² + y²: [∂z/∂x, ∂z/∂y] = [2x, 2y].

    Inputs:
    - x, y: floats

    Returns:
    - an array of shape (2,): [∂z/∂x, ∂z/∂y]

    Example: bowl_gradient(1.0, 2.0) gives array([2., 4.])
    """
    # YOUR CODE HERE
    raise NotImplementedError


def steepest_ascent_direction(f, x, h=1e-5):
    """The unit vector in which f increases fastest at x: the gradient divided by its length.

    Inputs:
    - f: a function taking an array of shape (n,) and returning a float
    - x: an array of shape (n,); it must not be changed
    - h: the step for the numerical gradient, a small positive float

    Returns:
    - an array of shape (n,) and length 1, pointing along ∇f(x); all zeros where the gradient is
      zero, since no direction is then steeper than another. A gradient counts as zero when its
      length is below 1e-12: at a flat point a numerical gradient is rarely exactly 0, only
      rounding noise, so compare its length with 1e-12, not with 0

    Example: for f(v) = 3·v[0] + 4·v[1], steepest_ascent_direction(f, np.zeros(2)) is about
    array([0.6, 0.8])
    """
    # YOUR CODE HERE
    raise NotImplementedError
