"""Exercise 3: the chain rule.

The derivative of a composite function is the derivative of the outer function at the inner
function's value, times the derivative of the inner function:

    d/dx f(g(x)) = f'(g(x)) · g'(x)        or, with u = g(x):   dy/dx = dy/du · du/dx

For a longer chain the factors multiply up, one per link. This is the whole of backpropagation:
each layer multiplies the gradient coming from above by its own local derivative.

Fill in each function below where it says `# YOUR CODE HERE`,
then check your work with `grade exercise3`.
"""

import numpy as np


def chain_rule(f_prime, g, g_prime, x):
    """The derivative of f(g(x)) at x: f'(g(x)) · g'(x).

    Inputs:
    - f_prime: the derivative of the outer function f
    - g: the inner function
    - g_prime: the derivative of g
    - x: a float, or an array of any shape (each function works entry by entry)

    Returns:
    - f'(g(x)) · g'(x), a float or an array shaped like x

    Example: for f = cos and g(x) = x² - 1 at x = 2:
    chain_rule(lambda u: -np.sin(u), lambda x: x**2 - 1, lambda x: 2 * x, 2.0) is -8·sin(3)
    """
    # YOUR CODE HERE
    raise NotImplementedError


def compose(pairs):
    """Compose a chain of functions, keeping track of the derivative as the chain rule says.

    Inputs:
    - pairs: a list of (function, derivative) pairs in the order they are applied: the first
      pair is the innermost function. [(g, g_prime), (f, f_prime)] means f(g(x)).

    Returns:
    - a function h(x) returning the tuple (value, derivative) of the whole chain at x, where x is
      a float or an array (entry by entry). An empty list is the identity: h(x) = (x, 1.0).

    Example: h = compose([(lambda x: x**2 - 1, lambda x: 2 * x), (np.cos, lambda u: -np.sin(u))])
    then h(2.0) is (cos(3), -sin(3) · 4)
    """
    # YOUR CODE HERE
    raise NotImplementedError


def cos_of_square_minus_one(x):
    """The lesson's f(x) = cos(x² - 1).

    Inputs:
    - x: a float, or an array of any shape

    Returns:
    - cos(x² - 1), a float or an array shaped like x

    Example: cos_of_square_minus_one(1.0) == 1.0
    """
    # YOUR CODE HERE
    raise NotImplementedError


def cos_of_square_minus_one_derivative(x):
    """The exact derivative of f(x) = cos(x² - 1), by the chain rule: -sin(x² - 1) · 2x.

    Inputs:
    - x: a float, or an array of any shape

    Returns:
    - -sin(x² - 1) · 2x, a float or an array shaped like x

    Example: cos_of_square_minus_one_derivative(1.0) == 0.0 (the top of the cosine)
    """
    # YOUR CODE HERE
    raise NotImplementedError
