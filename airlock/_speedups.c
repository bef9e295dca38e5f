/* airlock._speedups: the optional compiled kernel (issue 23), first slice.
 *
 * One function, ``enqueue``, for the plain path only: no keyword arguments, a current
 * target whose ``_accepting`` is exactly True, a callable task. That call appends the plain
 * record ``(task, args, {})`` to ``target._buffer``, as ``airlock._enqueue.enqueue`` does.
 * Every other call (keywords or options, a target that is not accepting, a task that is not
 * callable, a batch, no task at all, any error while looking) is handed, arguments
 * unchanged, to the pure-Python ``airlock._enqueue.enqueue``: the pure core is the reference,
 * and whatever is not here behaves exactly as it does there.
 *
 * The module keeps its references (the ContextVar, the pure enqueue, interned attribute
 * names) in its module state, filled when the module is executed (multi-phase init).
 * It declares that it needs the GIL on free-threaded CPython (Py_mod_gil).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h> /* T_OBJECT_EX: the kind of member a __slots__ name is */

typedef struct {
    PyObject *current_target; /* airlock._context.current_target (a ContextVar) */
    PyObject *pure_enqueue;   /* airlock._enqueue.enqueue: everything but the plain path */
    PyObject *buffer_type;    /* airlock._buffer.Buffer: a list whose append is list.append */
    PyObject *scope_type;     /* airlock.Scope and airlock.TickScope: targets whose */
    PyObject *tick_type;      /* ``_accepting`` and ``_buffer`` slots are read in place */
    Py_ssize_t accepting_at;  /* the byte offsets of those two slots in such an object */
    Py_ssize_t buffer_at;
    PyObject *str_accepting;  /* "_accepting" */
    PyObject *str_buffer;     /* "_buffer" */
    PyObject *str_append;     /* "append" */
} speedups_state;

static inline speedups_state *
get_state(PyObject *module)
{
    return (speedups_state *)PyModule_GetState(module);
}

/* The pure-Python enqueue with the very arguments this call received. */
static PyObject *
delegate(speedups_state *st, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    return PyObject_Vectorcall(st->pure_enqueue, args, (size_t)nargs, kwnames);
}

/* Append ``(task, args[1:], {})`` to ``buffer``. 0 on success, -1 with an exception set. */
static int
append_plain_record(speedups_state *st, PyObject *buffer, PyObject *const *args,
                    Py_ssize_t nargs)
{
    PyObject *task_args = PyTuple_New(nargs - 1);
    if (task_args == NULL) {
        return -1;
    }
    for (Py_ssize_t i = 1; i < nargs; i++) {
        PyObject *arg = args[i];
        Py_INCREF(arg);
        PyTuple_SET_ITEM(task_args, i - 1, arg);
    }
    PyObject *kwargs = PyDict_New();
    if (kwargs == NULL) {
        Py_DECREF(task_args);
        return -1;
    }
    PyObject *record = PyTuple_New(3);
    if (record == NULL) {
        Py_DECREF(task_args);
        Py_DECREF(kwargs);
        return -1;
    }
    Py_INCREF(args[0]);
    PyTuple_SET_ITEM(record, 0, args[0]);
    PyTuple_SET_ITEM(record, 1, task_args); /* steals */
    PyTuple_SET_ITEM(record, 2, kwargs);    /* steals */

    int status;
    if (PyList_CheckExact(buffer) || Py_IS_TYPE(buffer, (PyTypeObject *)st->buffer_type)) {
        status = PyList_Append(buffer, record);
    }
    else { /* another list subclass or sequence: its own append, as Python would call */
        PyObject *result = PyObject_CallMethodOneArg(buffer, st->str_append, record);
        status = result == NULL ? -1 : 0;
        Py_XDECREF(result);
    }
    Py_DECREF(record);
    return status;
}

PyDoc_STRVAR(enqueue_doc,
"enqueue($module, task, /, *args, _name=None, _origin=None, _dispatch_options=None,"
" _key=None, **kwargs)\n"
"--\n"
"\n"
"Ask for ``task(*args, **kwargs)`` to run when the current scope flushes.\n"
"\n"
"``_name`` names the intent (default: the task's name), ``_origin`` says where it came\n"
"from, ``_dispatch_options`` go to the executor, and a non-None ``_key`` coalesces: of\n"
"the intents with one key in a flush, only the last enqueued survives. Raises\n"
"``NoScopeError`` outside a scope and ``TypeError`` for a task that is not callable.");

static PyObject *
enqueue(PyObject *module, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    speedups_state *st = get_state(module);
    if (nargs < 1 || (kwnames != NULL && PyTuple_GET_SIZE(kwnames) != 0)) {
        return delegate(st, args, nargs, kwnames);
    }
    PyObject *target = NULL;
    if (PyContextVar_Get(st->current_target, NULL, &target) < 0) {
        return NULL;
    }
    if (target == NULL) { /* no value and no default: the pure path says what is wrong */
        return delegate(st, args, nargs, kwnames);
    }
    PyObject *accepting, *buffer;
    if (Py_IS_TYPE(target, (PyTypeObject *)st->tick_type)
        || Py_IS_TYPE(target, (PyTypeObject *)st->scope_type)) {
        /* the slots themselves (what the attribute reads would find, without the lookup);
           an unset one is NULL */
        accepting = *(PyObject **)((char *)target + st->accepting_at);
        buffer = *(PyObject **)((char *)target + st->buffer_at);
        Py_XINCREF(accepting);
        Py_XINCREF(buffer);
    }
    else {
        accepting = PyObject_GetAttr(target, st->str_accepting);
        buffer = accepting == Py_True ? PyObject_GetAttr(target, st->str_buffer) : NULL;
        PyErr_Clear();
    }
    Py_DECREF(target);
    int plain = accepting == Py_True && buffer != NULL && PyCallable_Check(args[0]);
    Py_XDECREF(accepting);
    if (!plain) {
        Py_XDECREF(buffer);
        return delegate(st, args, nargs, kwnames);
    }
    int status = append_plain_record(st, buffer, args, nargs);
    Py_DECREF(buffer);
    if (status < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyMethodDef speedups_methods[] = {
    {"enqueue", (PyCFunction)(void (*)(void))enqueue, METH_FASTCALL | METH_KEYWORDS,
     enqueue_doc},
    {NULL, NULL, 0, NULL},
};

/* ``getattr(import_module(module), name)``: a new reference, or NULL with an exception. */
static PyObject *
import_attr(const char *module, const char *name)
{
    PyObject *mod = PyImport_ImportModule(module);
    if (mod == NULL) {
        return NULL;
    }
    PyObject *value = PyObject_GetAttrString(mod, name);
    Py_DECREF(mod);
    return value;
}

/* The byte offset of the ``__slots__`` member ``name`` that ``base`` defines and ``sub``
   inherits unchanged; -1 with an exception set otherwise. */
static Py_ssize_t
slot_offset(PyObject *base, PyObject *sub, const char *name)
{
    PyObject *member = PyObject_GetAttrString(base, name);
    if (member == NULL) {
        return -1;
    }
    PyObject *inherited = PyObject_GetAttrString(sub, name);
    Py_ssize_t offset = -1;
    if (inherited == member && Py_IS_TYPE(member, &PyMemberDescr_Type)
        && ((PyMemberDescrObject *)member)->d_member->type == T_OBJECT_EX) {
        offset = ((PyMemberDescrObject *)member)->d_member->offset;
    }
    else if (inherited != NULL) {
        PyErr_Format(PyExc_TypeError,
                     "airlock._speedups needs %s to be a __slots__ member of airlock.Scope",
                     name);
    }
    Py_DECREF(member);
    Py_XDECREF(inherited);
    return offset;
}

static int
speedups_exec(PyObject *module)
{
    speedups_state *st = get_state(module);
    st->current_target = import_attr("airlock._context", "current_target");
    if (st->current_target == NULL) {
        return -1;
    }
    if (!PyContextVar_CheckExact(st->current_target)) {
        PyErr_SetString(PyExc_TypeError,
                        "airlock._speedups needs airlock._context.current_target to be a "
                        "contextvars.ContextVar");
        return -1;
    }
    st->pure_enqueue = import_attr("airlock._enqueue", "enqueue");
    if (st->pure_enqueue == NULL) {
        return -1;
    }
    st->buffer_type = import_attr("airlock._buffer", "Buffer");
    if (st->buffer_type == NULL) {
        return -1;
    }
    if (!PyType_Check(st->buffer_type)
        || !PyType_IsSubtype((PyTypeObject *)st->buffer_type, &PyList_Type)) {
        PyErr_SetString(PyExc_TypeError,
                        "airlock._speedups needs airlock._buffer.Buffer to be a list subclass");
        return -1;
    }
    st->scope_type = import_attr("airlock._scope", "Scope");
    if (st->scope_type == NULL) {
        return -1;
    }
    st->tick_type = import_attr("airlock._tick", "TickScope");
    if (st->tick_type == NULL) {
        return -1;
    }
    st->accepting_at = slot_offset(st->scope_type, st->tick_type, "_accepting");
    if (st->accepting_at < 0) {
        return -1;
    }
    st->buffer_at = slot_offset(st->scope_type, st->tick_type, "_buffer");
    if (st->buffer_at < 0) {
        return -1;
    }
    st->str_accepting = PyUnicode_InternFromString("_accepting");
    st->str_buffer = PyUnicode_InternFromString("_buffer");
    st->str_append = PyUnicode_InternFromString("append");
    if (st->str_accepting == NULL || st->str_buffer == NULL || st->str_append == NULL) {
        return -1;
    }
    return 0;
}

static int
speedups_traverse(PyObject *module, visitproc visit, void *arg)
{
    speedups_state *st = get_state(module);
    if (st == NULL) {
        return 0;
    }
    Py_VISIT(st->current_target);
    Py_VISIT(st->pure_enqueue);
    Py_VISIT(st->buffer_type);
    Py_VISIT(st->scope_type);
    Py_VISIT(st->tick_type);
    return 0;
}

static int
speedups_clear(PyObject *module)
{
    speedups_state *st = get_state(module);
    if (st == NULL) {
        return 0;
    }
    Py_CLEAR(st->current_target);
    Py_CLEAR(st->pure_enqueue);
    Py_CLEAR(st->buffer_type);
    Py_CLEAR(st->scope_type);
    Py_CLEAR(st->tick_type);
    Py_CLEAR(st->str_accepting);
    Py_CLEAR(st->str_buffer);
    Py_CLEAR(st->str_append);
    return 0;
}

static void
speedups_free(void *module)
{
    (void)speedups_clear((PyObject *)module);
}

static PyModuleDef_Slot speedups_slots[] = {
    {Py_mod_exec, speedups_exec},
#ifdef Py_mod_gil
    /* not yet proven safe without the GIL: a free-threaded CPython re-enables it */
    {Py_mod_gil, Py_MOD_GIL_USED},
#endif
    {0, NULL},
};

PyDoc_STRVAR(module_doc,
"The compiled kernel of airlock (optional): ``enqueue``'s plain path in C.\n"
"\n"
"Everything it does not do itself goes to the pure-Python core, the reference.");

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "airlock._speedups",
    .m_doc = module_doc,
    .m_size = sizeof(speedups_state),
    .m_methods = speedups_methods,
    .m_slots = speedups_slots,
    .m_traverse = speedups_traverse,
    .m_clear = speedups_clear,
    .m_free = speedups_free,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    return PyModuleDef_Init(&speedups_module);
}
