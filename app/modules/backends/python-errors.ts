// What the Python GPU servers (ComfyUI, SD WebUI) report when a request is wrong.

/** Built-in Python exception types that fail the same way on every attempt: the request or its inputs are wrong. */
export const PYTHON_INPUT_ERRORS: readonly string[] = [
  'ValueError',
  'TypeError',
  'KeyError',
  'IndexError',
  'AttributeError',
  'AssertionError',
  'NotImplementedError',
]
