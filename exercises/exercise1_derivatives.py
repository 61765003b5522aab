"""Exercise 1: derivatives.

The derivative of F at x is the limit of the difference quotient dy/dx as dx shrinks to 0:

    F'(x) = lim_{dx -> 0} (F(x + dx) - F(x)) / dx

A computer cannot take the limit, but it can take a small step. The central difference
(F(x + h) - F(x - h)) / (2h) steps both ways and is far more accurate than the one-sided quotient.

Every function here works on a float or, entry by entry, on a numpy array of any shape.

Fill in each function below where it says `# YOUR CODE HERE`,
then check your work with `grade exercise1`.
"""

import numpy as np


def difference_quotient(f, x, dx):
    """The slope of F between x and x + dx: the lesson's dy/dx before taking the limit.

    Inputs:
    - f: a function of one number (it may also be given an array, entry by entry)
    - x: a float, or an array of any shape
    - dx: the step, a nonzero float (it may be negative)

    Returns:
    - (f(x + dx) - f(x)) / dx, a float or an array shaped like x

    Example: difference_quotient(lambda x: 3 * x, 3.0, 0.1) == 3.0 (up to rounding)
    """
    # YOUR CODE HERE
    raise NotImplementedError


def numerical_derivative(f, x, h=1e-5):
    """Estimate F'(x) by the central difference (f(x + h) - f(x - h)) / (2h).

    Inputs:
    - f: a function of one number (it may also be given an array, entry by entry)
    - x: a float, or an array of any shape
    - h: the step, a small positive float

    Returns:
    - the estimate of F'(x), a float or an array shaped like x

    Example: numerical_derivative(lambda x: 2 * x**2, 3.0) is 12.0 to about 9 digits
    """
    # YOUR CODE HERE
    raise NotImplementedError


def two_x_squared(x):
    """The lesson's F(x) = 2x².

    Inputs:
    - x: a float, or an array of any shape

    Returns:
    - 2x², a float or an array shaped like x

    Example: two_x_squared(3.0) == 18.0
    """
    # YOUR CODE HERE
    raise NotImplementedError


def two_x_squared_derivative(x):
    """The exact derivative of F(x) = 2x², which is F'(x) = 4x.

    Inputs:
    - x: a float, or an array of any shape

    Returns:
    - 4x, a float or an array shaped like x

    Example: two_x_squared_derivative(3.0) == 12.0
    """
    # YOUR CODE HERE
    raise NotImplementedError


def three_x(x):
    """The lesson's F(x) = 3x.

    Inputs:
    - x: a float, or an array of any shape

    Returns:
    - 3x, a float or an array shaped like x

    Example: three_x(3.0) == 9.0
    """
    # YOUR CODE HERE
    raise NotImplementedError


def three_x_derivative(x):
    """The exact derivative of F(x) = 3x, which is 3 everywhere.

    Inputs:
    - x: a float, or an array of any shape

    Returns:
    - 3.0 for a float; for an array, an array of 3.0 shaped like x

    Example: three_x_derivative(np.zeros(2)) gives array([3., 3.])
    """
    # YOUR CODE HERE
    raise NotImplementedError
