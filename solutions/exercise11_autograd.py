"""Exercise 11 (for the keen): automatic differentiation, one number at a time.

Frameworks such as PyTorch compute gradients for you. They do it the way this exercise does: every
number remembers the numbers it was made from and how, so the chain rule can run backwards through
the whole computation. Value wraps one float:

    a = Value(2.0); b = Value(-3.0)
    c = a * b + a          # c.data == -4.0
    c.backward()           # a.grad == b.data + 1 == -2.0, b.grad == a.data == 2.0

Each operation makes a new Value whose _backward closure adds its share of the gradient to the
Values it came from: with +=, because a Value used twice gets a share from each use. backward()
sets the output's grad to 1 and calls every _backward once, each node after all the nodes built
from it (reverse topological order).
"""

import math


class Value:
    """A float that remembers how it was computed, so gradients can flow back through it.

    Attributes:
    - data: the value, a float
    - grad: ∂(the Value backward() was called on)/∂(this Value), a float; 0.0 until backward()
    """

    def __init__(self, data, children=(), op=""):
        """Given: a new Value holding ``data``, made from ``children`` by ``op``."""
        self.data = float(data)
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = tuple(children)
        self._op = op

    def __repr__(self):
        """Given: Value(data=..., grad=...)."""
        return f"Value(data={self.data}, grad={self.grad})"

    def __add__(self, other):
        """self + other, where other is a Value or a number.

        Returns:
        - a new Value; its _backward adds out.grad to both self.grad and other.grad (∂(a+b)/∂a = 1)

        Example: (Value(2.0) + 3).data == 5.0
        """
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        """self · other, where other is a Value or a number.

        Returns:
        - a new Value; its _backward adds other.data · out.grad to self.grad and
          self.data · out.grad to other.grad

        Example: (Value(2.0) * Value(-3.0)).data == -6.0
        """
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __pow__(self, exponent):
        """self ** exponent, for a number exponent (an int or a float, not a Value).

        Returns:
        - a new Value; its _backward adds exponent · self.data ** (exponent - 1) · out.grad to
          self.grad

        Example: (Value(3.0) ** 2).data == 9.0
        """
        out = Value(self.data**exponent, (self,), f"**{exponent}")

        def _backward():
            self.grad += exponent * self.data ** (exponent - 1) * out.grad

        out._backward = _backward
        return out

    def tanh(self):
        """tanh(self).

        Returns:
        - a new Value t; its _backward adds (1 - t²) · out.grad to self.grad

        Example: Value(0.0).tanh().data == 0.0
        """
        t = math.tanh(self.data)
        out = Value(t, (self,), "tanh")

        def _backward():
            self.grad += (1 - t**2) * out.grad

        out._backward = _backward
        return out

    def backward(self):
        """Fill in .grad of every Value this one was computed from: ∂self/∂that Value.

        Sets self.grad to 1.0, then calls each node's _backward once, every node after all the
        nodes that were made from it. Build that order with a loop and an explicit stack, not
        recursion: a chain 2,000 operations deep must not hit Python's recursion limit.

        Example: a = Value(1.0); b = a + a; c = b + b; c.backward() gives a.grad == 4.0
        """
        order = []
        visited = set()
        stack = [(self, False)]
        while stack:
            node, children_done = stack.pop()
            if children_done:
                order.append(node)
                continue
            if node in visited:
                continue
            visited.add(node)
            stack.append((node, True))
            stack.extend((child, False) for child in node._prev if child not in visited)
        self.grad = 1.0
        for node in reversed(order):
            node._backward()

    def __neg__(self):
        """Given: -self."""
        return self * -1

    def __radd__(self, other):
        """Given: other + self, for a number other."""
        return self + other

    def __sub__(self, other):
        """Given: self - other."""
        return self + (-other)

    def __rsub__(self, other):
        """Given: other - self, for a number other."""
        return other + (-self)

    def __rmul__(self, other):
        """Given: other · self, for a number other."""
        return self * other

    def __truediv__(self, other):
        """Given: self / other."""
        return self * other**-1

    def __rtruediv__(self, other):
        """Given: other / self, for a number other."""
        return other * self**-1
