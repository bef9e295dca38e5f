/* airlock._speedups: the optional compiled kernel (issue 23).
 *
 * The hot path of the core in C: ``enqueue``, a fresh ``scope``, a tick's common frame
 * (``inline_frame``), the per-intent stages of a flush (``coalesce``, ``order``,
 * ``merge_batches``) and its dispatch loop (``call_each``). Each function does the common case exactly as its pure-Python twin
 * does and hands every other call, arguments unchanged, to that twin: the pure core is the
 * reference, and whatever is not here behaves exactly as it does there. Each section names
 * the twin to keep in sync with.
 *
 * The module keeps its references (the ContextVar, the pure twins, the core's types, slot
 * offsets, interned names) in its module state, filled when the module is executed
 * (multi-phase init). It declares that it needs the GIL on free-threaded CPython (Py_mod_gil).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h> /* T_OBJECT_EX: the kind of member a __slots__ name is */

/* Every object the module state holds, with what it is: declared, visited and cleared
   from this one list (``speedups_traverse``, ``speedups_clear``). */
#define STATE_OBJECTS(X) \
    X(current_target)  /* airlock._context.current_target (a ContextVar) */ \
    X(pure_enqueue)  /* airlock._enqueue.enqueue: everything but the plain path */ \
    X(buffer_type)  /* airlock._buffer.Buffer: a list whose append is list.append */ \
    X(scope_type)  /* airlock.Scope */ \
    X(tick_type)  /* airlock.TickScope */ \
    X(batch_type)  /* airlock.Batch: a batch's payload is a full record */ \
    X(partial_type)  /* functools.partial (a task whose phase ``order`` reads plainly) */ \
    X(view_type)  /* airlock._context.PolicyView, and its slots */ \
    X(str_key)  /* the options' names: "_key", "_name", "_origin", "_dispatch_options" */ \
    X(str_name) \
    X(str_origin) \
    X(str_dispatch_options) \
    X(frame_type)  /* the type of the frame's two callables */ \
    X(no_scope)  /* airlock._context.NO_SCOPE */ \
    X(mode_open) \
    X(mode_idle) \
    X(mode_kept) \
    X(mode_general)  /* airlock._states' modes */ \
    X(plan_type)  /* airlock._plan.FlushPlan */ \
    X(state_active) \
    X(state_flushed)  /* airlock._states.ACTIVE, FLUSHED */ \
    X(str_accepting)  /* "_accepting" */ \
    X(str_buffer)  /* "_buffer" */ \
    X(str_append)  /* "append" */ \
    X(pure_coalesce) \
    X(pure_order) \
    X(pure_merge_batches) \
    X(pure_dispatch) \
    X(fail_or_stop) \
    X(empty_tuple) \
    X(str_dispatched) \
    X(intent_type)  /* airlock.Intent: a named full record (a tuple subclass) */ \
    X(pure_scope) \
    X(defaults) \
    X(state_new) \
    X(zero) \
    X(str_raise) \
    X(token_missing) \
    X(pure_enter) \
    X(pure_exit) \
    X(nest) \
    X(flush_now) \
    X(state_pending) \
    X(str_release) \
    X(lifecycle_types)  /* {weakref to a Scope subclass: (bool, that weakref)}, see */ \
    X(inlines_lifecycle)  /* ``judged_once``; its judge */ \
    X(capture_types) \
    X(captures_plainly)  /* its judge (``hand_over_plain``) */ \
    X(built_types) \
    X(builds_like_scope)  /* its judge (``airlock.scope(_cls=...)``) */ \
    X(forget_class)  /* the weakrefs' callback: a dead class's answers go (bound: module) */ \
    X(observer_set_type)  /* airlock._observe.ObserverSet (``enqueue_observed``) */ \
    X(observer_set_tell)  /* ObserverSet.tell: a watched flush's ``ctx.tell`` (``call_each``) */ \
    X(str_enqueued) \
    X(str_flushed)  /* "flushed": the ObserverSet's listeners of a flush's end */ \
    X(str_notify_flushed)  /* "_notify_flushed" (a watched inline frame's end) */ \
    X(str_hook_failed) \
    X(str_stats) \
    X(str_watching) \
    X(str_coalesced) \
    X(str_batched) \
    X(str_order_by) \
    X(str_phase_ranks) \
    X(str_airlock_phase) \
    X(str_phase) \
    X(str_handler) \
    X(str_dunder_name) \
    X(stats_type)  /* airlock._stats.FlushStats */ \
    X(str_flush_context)  /* "_flush_context" */ \
    X(str_rescan)  /* "rescan" */ \
    X(str_force_general)  /* "force_general" */ \
    X(ctx_type)  /* airlock._flush.FlushContext */ \
    X(sync_executor)  /* airlock._executor.sync_executor */ \
    X(refuse_coroutine)  /* airlock._executor.refuse_coroutine */ \
    X(str_executor) \
    X(held_type)  /* airlock._cadence.HeldEffects */ \
    X(block_type)  /* airlock._context.PolicyBlock */ \
    X(pure_block_enter)  /* its own Python __enter__ and __exit__ */ \
    X(pure_block_exit) \
    X(policy_on_enqueue)  /* airlock.Policy's on_enqueue and allows: the no-op hooks */ \
    X(policy_allows) \
    X(str_on_enqueue) \
    X(str_ambient_policies) \
    X(str_init) \
    X(str_plain_paths) \
    X(scope_init)  /* Scope.__init__ */ \
    X(pure_policy)  /* airlock._context.policy */ \
    X(run_plain)  /* airlock._plain.run_plain and record_failure */ \
    X(no_kwargs)  /* airlock._intent.NO_KWARGS: the records' shared empty kwargs */ \
    X(shift_token)  /* airlock._buffer.SHIFT_TOKEN, and its take_for_removal (take_head) */ \
    X(take_for_removal) \
    X(record_failure) \
    X(str_allows) \
    X(str_withdraws)  /* "withdraws": a policy method that makes it judge (``_withdraw``) */

/* the most counters FlushStats may have for close_rich to zero them (``reset``) */
#define MAX_COUNTERS 24

/* The class a per-class judge answered for last, and its answer (``judged_once``): ``key``
   is that class's weak reference in the answers dict (borrowed: the dict holds it), and
   ``type`` is alive while it is there; ``forget_class`` clears both when the class dies, so a
   new class at the same address is never taken for it. */
typedef struct {
    PyObject *key;  /* NULL: none yet */
    PyTypeObject *type;
    int passes;
} last_answer;

typedef struct {
#define DECLARE_OBJECT(name) PyObject *name;
    STATE_OBJECTS(DECLARE_OBJECT)
#undef DECLARE_OBJECT
    /* byte offsets of the __slots__ members read and written in place */
    Py_ssize_t accepting_at;  /* Scope's (and so TickScope's) _accepting and _buffer */
    Py_ssize_t buffer_at;
    Py_ssize_t rich_at;       /* a Buffer's flags this module sets */
    Py_ssize_t keyed_at;
    Py_ssize_t batching_at;
    Py_ssize_t filtering_at;
    Py_ssize_t view_scope_at, view_policies_at, view_hooked_at, view_filtering_at;
    Py_ssize_t enqueue_hooked_at, policy_hooked_at; /* FlushPlan's */
    Py_ssize_t inline_at, spent_at, owner_at, token_at, frame_at; /* TickScope's slots */
    Py_ssize_t keep_at;
    Py_ssize_t state_at, plain_count_at, plain_ns_at, timed_at, plan_at; /* Scope's slots */
    Py_ssize_t origins_at, removed_at;                           /* Buffer's slots */
    Py_ssize_t plain_loop_at;                                     /* FlushPlan's slot */
    Py_ssize_t stats_at, parent_at, ambient_at, policy_at, executor_at, order_by_at;
    Py_ssize_t errors_at, observers_at, holding_at;
    Py_ssize_t defaults_scope_cls_at, defaults_scope_kwargs_at, defaults_policy_at;
    Py_ssize_t defaults_executor_at, defaults_plan_at;
    Py_ssize_t ctx_at, held_at, carry_at;                 /* TickScope's, for close_rich */
    Py_ssize_t on_records_at, dispatcher_at, judging_at;  /* FlushPlan's */
    Py_ssize_t enqueued_at, flush_ns_at, failures_at, pending_at; /* FlushStats' */
    Py_ssize_t dispatched_at, coalesced_at, batched_at;           /* FlushStats' */
    Py_ssize_t counters_at[MAX_COUNTERS], counters;       /* FlushStats' but failures */
    Py_ssize_t frame_budget_at, watching_at, waiting_at;  /* tick's, plan's, HeldEffects' */
    /* FlushContext's, written as _settle.prepare writes them */
    Py_ssize_t ctx_stats_at, ctx_policy_at, ctx_executor_at, ctx_order_by_at, ctx_errors_at;
    Py_ssize_t ctx_watching_at, ctx_judging_at, ctx_dispatch_at, ctx_filtering_at;
    Py_ssize_t ctx_keyed_at, ctx_batching_at, ctx_capture_at, ctx_hold_at, ctx_budget_at;
    Py_ssize_t block_token_at, block_policy_at;           /* PolicyBlock's */
    Py_ssize_t plan_tick_at;                              /* FlushPlan's */
    Py_ssize_t plain_captured_at;                         /* Scope's */
    Py_ssize_t closed_at;                                 /* TickScope's */
    Py_ssize_t observing_at, set_listeners_at, set_failure_at; /* Scope's, ObserverSet's */
    Py_ssize_t ctx_tell_at;                               /* FlushContext's */
    /* the last answer of each judge asked once per class (see ``judged_once``) */
    last_answer lifecycle_last, capture_last, built_last;
} speedups_state;

/* A record's layout (``airlock._record``, checked when the module loads): a plain record is
   ``(task, args, kwargs)``, a full one has nine fields. */
#define PLAIN_SIZE 3
#define FULL_SIZE 9
#define NAME_AT 3
#define DISPATCH_OPTIONS_AT 4
#define ORIGIN_AT 5
#define KEY_AT 6
#define LOCAL_POLICIES_AT 7
#define SCOPE_AT 8

/* defined with the module's init, used by the sections' own (``*_exec``) */
static PyObject *import_attr(const char *module, const char *name);
static PyObject *import_class(const char *module, const char *name, PyTypeObject *base);
static Py_ssize_t slot_offset(PyObject *base, PyObject *sub, const char *name);

/* The ``__slots__`` member at byte ``offset`` of ``obj`` (NULL when unset). */
#define SLOT(obj, offset) (*(PyObject **)((char *)(obj) + (offset)))

/* Store a new reference to ``value`` in the slot at ``offset`` of ``obj``. */
static inline void
set_slot(PyObject *obj, Py_ssize_t offset, PyObject *value)
{
    PyObject *old = SLOT(obj, offset);
    Py_INCREF(value);
    SLOT(obj, offset) = value;
    Py_XDECREF(old);
}

/* A Python int from a C one into the slot at ``offset`` of ``obj``; -1 on an error. */
static int
set_int_slot(PyObject *obj, Py_ssize_t offset, long long value)
{
    PyObject *number = PyLong_FromLongLong(value);
    if (number == NULL) {
        return -1;
    }
    set_slot(obj, offset, number);
    Py_DECREF(number);
    return 0;
}

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

/* The kwargs of a record whose call has none: ``_intent.NO_KWARGS``, shared (a new
   reference), or a new dict should anything have written into it. NULL with an exception set
   on failure. */
static inline PyObject *
no_kwargs(speedups_state *st)
{
    return PyDict_GET_SIZE(st->no_kwargs) == 0 ? Py_NewRef(st->no_kwargs) : PyDict_New();
}

/* Whether ``target`` (the enqueue's: a scope, a tick, a policy view or another kind) still
   takes an append. Read once the record is built, with nothing between this read and the
   append that allocates or calls Python code: the rule of ``_buffer`` (a scope ending on
   another thread meanwhile refuses the enqueue). Keep in sync with the pure reads
   (``_enqueue``, ``Buffer.add_keyed``, ``_append_viewed``). */
static int
still_accepting(speedups_state *st, PyObject *target)
{
    if (Py_IS_TYPE(target, (PyTypeObject *)st->tick_type)
        || Py_IS_TYPE(target, (PyTypeObject *)st->scope_type)) {
        return SLOT(target, st->accepting_at) == Py_True;
    }
    if (Py_IS_TYPE(target, (PyTypeObject *)st->view_type)) {  /* PolicyView.accepting */
        PyObject *scope = SLOT(target, st->view_scope_at);
        PyObject *plan = scope == NULL ? NULL : SLOT(scope, st->plan_at);
        return plan != NULL && SLOT(scope, st->state_at) == st->state_active
               && Py_IS_TYPE(plan, (PyTypeObject *)st->plan_type)
               && SLOT(plan, st->enqueue_hooked_at) == Py_False;
    }
    PyObject *accepting = PyObject_GetAttr(target, st->str_accepting);  /* as read at first */
    if (accepting == NULL) {
        PyErr_Clear();
        return 0;
    }
    int accepts = accepting == Py_True;
    Py_DECREF(accepting);
    return accepts;
}

/* Append ``(task, args[1:], NO_KWARGS)`` to ``buffer``, ``target``'s, unless ``target``
   stopped accepting meanwhile (``still_accepting``). 0 on success, 1 when refused (nothing
   appended: the pure path decides), -1 with an exception set. */
static int
append_plain_record(speedups_state *st, PyObject *target, PyObject *buffer,
                    PyObject *const *args, Py_ssize_t nargs)
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
    PyObject *kwargs = no_kwargs(st);
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
    if (!still_accepting(st, target)) {
        status = 1;
    }
    else if (PyList_CheckExact(buffer) || Py_IS_TYPE(buffer, (PyTypeObject *)st->buffer_type)) {
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

/* The options of one enqueue, borrowed (None when not given). */
typedef struct {
    PyObject *name, *dispatch_options, *origin, *key;
} options;

/* Append the full record ``(task, args[1:], kwargs, name, dispatch_options, origin, key,
   policies, owner)`` to ``buffer`` (a Buffer), after turning on ``rich`` and what the record
   needs (``keyed``, ``batching``): what ``Buffer.add`` does (and ``add_keyed``,
   ``add_batched``, and ``_enqueue``'s inlined copies), unless ``target`` (the enqueue's:
   ``owner`` or a view over it) stopped accepting meanwhile. ``kwargs``: the task's own
   keywords (stolen), or NULL for none; ``policies``: the local policies, or NULL for none.
   0 on success, 1 when refused (nothing appended: the pure path decides), -1 with an
   exception set. Keep in sync with them and with the full record's fields in
   ``_record.py``. */
static int
append_full_record(speedups_state *st, PyObject *target, PyObject *buffer,
                   PyObject *const *args, Py_ssize_t nargs, PyObject *kwargs,
                   const options *opt, PyObject *policies, PyObject *owner)
{
    PyObject *task_args = PyTuple_New(nargs - 1);
    if (task_args == NULL) {
        Py_XDECREF(kwargs);
        return -1;
    }
    for (Py_ssize_t i = 1; i < nargs; i++) {
        Py_INCREF(args[i]);
        PyTuple_SET_ITEM(task_args, i - 1, args[i]);
    }
    if (kwargs == NULL) {
        kwargs = no_kwargs(st);
    }
    if (policies == NULL) {
        policies = PyTuple_New(0); /* (the empty tuple: a new reference) */
    }
    else {
        Py_INCREF(policies);
    }
    PyObject *record = PyTuple_New(FULL_SIZE);
    if (kwargs == NULL || policies == NULL || record == NULL) {
        Py_DECREF(task_args);
        Py_XDECREF(kwargs);
        Py_XDECREF(policies);
        Py_XDECREF(record);
        return -1;
    }
    Py_INCREF(args[0]);
    PyTuple_SET_ITEM(record, 0, args[0]);
    PyTuple_SET_ITEM(record, 1, task_args);   /* steals */
    PyTuple_SET_ITEM(record, 2, kwargs);      /* steals */
    PyObject *fields[4] = {opt->name, opt->dispatch_options, opt->origin, opt->key};
    for (Py_ssize_t i = 0; i < 4; i++) {      /* NAME, DISPATCH_OPTIONS, ORIGIN, KEY */
        Py_INCREF(fields[i]);
        PyTuple_SET_ITEM(record, NAME_AT + i, fields[i]);
    }
    PyTuple_SET_ITEM(record, LOCAL_POLICIES_AT, policies);    /* steals */
    Py_INCREF(owner);
    PyTuple_SET_ITEM(record, SCOPE_AT, owner);
    if (!still_accepting(st, target)) {
        Py_DECREF(record);
        return 1;
    }
    if (opt->key != Py_None) {
        set_slot(buffer, st->keyed_at, Py_True);
    }
    if (Py_IS_TYPE(args[0], (PyTypeObject *)st->batch_type)) {
        set_slot(buffer, st->batching_at, Py_True);
    }
    set_slot(buffer, st->rich_at, Py_True); /* before the append: a plain run stops at the record */
    int status = PyList_Append(buffer, record);
    Py_DECREF(record);
    return status;
}

/* Sort the keyword arguments into the options and the task's own keywords (``*kwargs``: a new
   dict, or NULL when there are none). Returns 1 when the options are all valid and at least
   one is not None, 2 when none is given or all are None, 0 when the pure path must decide
   (one of the wrong type or an unhashable key: it raises the clear error; a name starting
   with ``_`` not known by identity), -1 on an error. */
static int
parse_options(speedups_state *st, PyObject *const *values, PyObject *kwnames, options *opt,
              PyObject **kwargs)
{
    opt->name = opt->dispatch_options = opt->origin = opt->key = Py_None;
    *kwargs = NULL;
    int given = 0;
    Py_ssize_t nkw = PyTuple_GET_SIZE(kwnames);
    for (Py_ssize_t i = 0; i < nkw; i++) {
        PyObject *name = PyTuple_GET_ITEM(kwnames, i), *value = values[i];
        PyObject **slot = NULL;
        if (name == st->str_key) {
            slot = &opt->key;
        }
        else if (name == st->str_name) {
            slot = &opt->name;
        }
        else if (name == st->str_origin) {
            slot = &opt->origin;
        }
        else if (name == st->str_dispatch_options) {
            slot = &opt->dispatch_options;
        }
        else if (PyUnicode_GET_LENGTH(name) && PyUnicode_READ_CHAR(name, 0) == '_') {
            return 0; /* an option's name, not interned: the pure path */
        }
        if (slot != NULL) {
            *slot = value;
            given = 1;
            continue;
        }
        if (*kwargs == NULL && (*kwargs = PyDict_New()) == NULL) {
            return -1;
        }
        if (PyDict_SetItem(*kwargs, name, value) < 0) {
            return -1;
        }
    }
    if (!given
        || (opt->name == Py_None && opt->origin == Py_None && opt->dispatch_options == Py_None
            && opt->key == Py_None)) {
        return 2;
    }
    if ((opt->name != Py_None && !PyUnicode_Check(opt->name))
        || (opt->origin != Py_None && !PyUnicode_Check(opt->origin))
        || (opt->dispatch_options != Py_None && !PyDict_Check(opt->dispatch_options))) {
        return 0;
    }
    if (opt->key != Py_None && PyObject_Hash(opt->key) == -1) {
        if (!PyErr_ExceptionMatches(PyExc_TypeError)) {
            return -1;  /* the key's own error, as the pure path's ``hash(key)`` raises it */
        }
        PyErr_Clear();
        return 0;  /* unhashable: the pure path raises the clear error */
    }
    return 1;
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

static const options NO_OPTIONS = {Py_None, Py_None, Py_None, Py_None};

/* An enqueue inside ``airlock.policy(...)``: what ``_enqueue._append_viewed`` does for a view
   over an open scope whose policies have no ``on_enqueue`` (``PolicyView.accepting``): the
   full record carrying the view's policies, ``filtering`` on when they may refuse. Returns 0
   when appended, 1 when the pure path must decide (a batch, options it would refuse, a view
   that does not accept), -1 on an error. Keep in sync with them. */
static int
enqueue_viewed(speedups_state *st, PyObject *view, PyObject *const *args, Py_ssize_t nargs,
               PyObject *kwnames)
{
    PyObject *scope = SLOT(view, st->view_scope_at);
    PyObject *policies = SLOT(view, st->view_policies_at);
    if (scope == NULL || policies == NULL || SLOT(view, st->view_hooked_at) != Py_False
        || !(Py_IS_TYPE(scope, (PyTypeObject *)st->tick_type)
             || Py_IS_TYPE(scope, (PyTypeObject *)st->scope_type))
        || SLOT(scope, st->state_at) != st->state_active || !PyCallable_Check(args[0])) {
        return 1;
    }
    PyObject *plan = SLOT(scope, st->plan_at), *buffer = SLOT(scope, st->buffer_at);
    if (plan == NULL || !Py_IS_TYPE(plan, (PyTypeObject *)st->plan_type)
        || SLOT(plan, st->enqueue_hooked_at) != Py_False || buffer == NULL
        || !Py_IS_TYPE(buffer, (PyTypeObject *)st->buffer_type)) {
        return 1;
    }
    /* held from here: a key's __hash__ (parsing the options) and the record's allocations
       may run Python code that rebinds the slots they were read from (the record appends
       only if its scope still accepts, read last) */
    Py_INCREF(scope);
    Py_INCREF(policies);
    Py_INCREF(buffer);
    options opt = NO_OPTIONS;
    PyObject *kwargs = NULL;
    int status = 0;
    if (kwnames != NULL && PyTuple_GET_SIZE(kwnames)) {
        int valid = parse_options(st, args + nargs, kwnames, &opt, &kwargs);
        if (valid <= 0) {
            Py_XDECREF(kwargs);
            status = valid < 0 ? -1 : 1;
        }
    }
    if (status == 0) {
        if (SLOT(view, st->view_filtering_at) == Py_True) {
            set_slot(buffer, st->filtering_at, Py_True);
        }
        status = append_full_record(st, view, buffer, args, nargs, kwargs, &opt, policies,
                                    scope);
    }
    Py_DECREF(buffer);
    Py_DECREF(policies);
    Py_DECREF(scope);
    return status;
}

/* Whether a keyword name is ``_key``: by identity, as a call site's names are interned (an
   interned name that is another object is another name); a name built at run time is
   compared. */
static inline int
is_key_keyword(speedups_state *st, PyObject *name)
{
    return name == st->str_key
           || (PyUnicode_CheckExact(name) && !PyUnicode_CHECK_INTERNED(name)
               && PyUnicode_Compare(name, st->str_key) == 0);
}

static int policy_traits(speedups_state *st, PyObject *policy, int *hooked, int *judges);
static PyObject *take_exception(void);
static int take_head(speedups_state *st, PyObject *buffer, Py_ssize_t count);

/* ``ObserverSet.tell(hook, entry)`` of ``observing``: ``hook`` called on each of its
   ``listeners[hook]`` (the observers that define it, a tuple); an error is remembered by its
   ``hook_failed``, never raised here. 0, or -1 with an exception set (``hook_failed`` itself
   raised). Keep in sync with it. */
static int
tell_observers(speedups_state *st, PyObject *observing, PyObject *hook, PyObject *entry)
{
    PyObject *by_hook = SLOT(observing, st->set_listeners_at);
    PyObject *observers = by_hook != NULL && PyDict_CheckExact(by_hook)
                          ? PyDict_GetItemWithError(by_hook, hook) : NULL;
    if (observers == NULL || !PyTuple_CheckExact(observers)) {  /* (reassigned): its own tell */
        if (PyErr_Occurred()) {
            return -1;
        }
        PyObject *told = PyObject_CallMethod(observing, "tell", "OO", hook, entry);
        Py_XDECREF(told);
        return told == NULL ? -1 : 0;
    }
    Py_INCREF(observers);  /* (an observer may replace the set's listeners meanwhile) */
    int status = 0;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(observers) && status == 0; i++) {
        PyObject *observer = PyTuple_GET_ITEM(observers, i);
        PyObject *call[2] = {observer, entry};
        PyObject *told = PyObject_VectorcallMethod(
            hook, call, 2 | PY_VECTORCALL_ARGUMENTS_OFFSET, NULL);
        if (told != NULL) {
            Py_DECREF(told);
            continue;
        }
        PyObject *exc = take_exception();
        PyObject *failed = PyObject_CallMethodObjArgs(observing, st->str_hook_failed, exc,
                                                      observer, hook, NULL);
        Py_DECREF(exc);
        if (failed == NULL) {
            status = -1;
        }
        Py_XDECREF(failed);
    }
    Py_DECREF(observers);
    return status;
}

/* An enqueue into a scope whose observers watch each intent, in the common case: an ACTIVE
   Scope or TickScope with no ambient policies and a policy without ``on_enqueue`` (its plan's
   ``policy_hooked``, as ``run_enqueue_hooks`` reads it), a callable
   task, no option and no keyword. ``_entry.enqueue_intent``, ``make_entry`` and
   ``run_enqueue_hooks``: the Intent built (as ``Intent.__new__`` fills it), each observer's
   ``enqueued`` told (an error is the ObserverSet's to remember: ``ObserverSet.tell``), then
   the Intent appended (``Buffer.add``). 0 when done, -1 with an exception set, 1 when the
   pure path must decide (anything else). Keep in sync with them. */
static int
enqueue_observed(speedups_state *st, PyObject *scope, PyObject *buffer, PyObject *const *args,
                 Py_ssize_t nargs)
{
    PyObject *plan = SLOT(scope, st->plan_at), *ambient = SLOT(scope, st->ambient_at);
    PyObject *observing = SLOT(scope, st->observing_at), *policy = SLOT(scope, st->policy_at);
    if (SLOT(scope, st->state_at) != st->state_active || plan == NULL
        || !Py_IS_TYPE(plan, (PyTypeObject *)st->plan_type)
        || SLOT(plan, st->watching_at) != Py_True || ambient == NULL
        || !PyTuple_CheckExact(ambient) || PyTuple_GET_SIZE(ambient) != 0 || policy == NULL
        || observing == NULL || !Py_IS_TYPE(observing, (PyTypeObject *)st->observer_set_type)
        || !Py_IS_TYPE(buffer, (PyTypeObject *)st->buffer_type)) {
        return 1;
    }
    if (SLOT(plan, st->policy_hooked_at) != Py_False) {  /* the policy's on_enqueue runs
                                                            first: the pure path */
        return 1;
    }
    /* Intent(task, args, None, None, None, None, None, (), scope) */
    PyTypeObject *intent_type = (PyTypeObject *)st->intent_type;
    PyObject *task_args = PyTuple_New(nargs - 1);
    PyObject *kwargs = PyDict_New(), *options = PyDict_New();
    PyObject *intent = intent_type->tp_alloc(intent_type, FULL_SIZE);
    if (task_args == NULL || kwargs == NULL || options == NULL || intent == NULL) {
        Py_XDECREF(task_args);
        Py_XDECREF(kwargs);
        Py_XDECREF(options);
        Py_XDECREF(intent);
        return -1;
    }
    for (Py_ssize_t i = 1; i < nargs; i++) {
        PyTuple_SET_ITEM(task_args, i - 1, Py_NewRef(args[i]));
    }
    PyObject *fields[FULL_SIZE] = {
        Py_NewRef(args[0]), task_args, kwargs, Py_NewRef(Py_None), options, Py_NewRef(Py_None),
        Py_NewRef(Py_None), Py_NewRef(ambient), Py_NewRef(scope),
    };
    for (Py_ssize_t i = 0; i < FULL_SIZE; i++) {
        PyTuple_SET_ITEM(intent, i, fields[i]);  /* steals */
    }
    Py_INCREF(observing);  /* (an observer may replace the scope's set meanwhile) */
    int status = tell_observers(st, observing, st->str_enqueued, intent);
    Py_DECREF(observing);
    if (status == 0) {  /* Buffer.add(intent, False): a callable task, no key */
        set_slot(buffer, st->rich_at, Py_True);
        if (SLOT(scope, st->state_at) == st->state_active) {  /* read again, last: the
            observers ran Python code, during which another thread may have ended it */
            status = PyList_Append(buffer, intent);
        }
        else {  /* scope._enqueue_made(intent, None, ()) */
            PyObject *made = PyObject_CallMethod(scope, "_enqueue_made", "OOO", intent, Py_None,
                                                 st->empty_tuple);
            status = made == NULL ? -1 : 0;
            Py_XDECREF(made);
        }
    }
    Py_DECREF(intent);
    return status;
}

static PyObject *
enqueue(PyObject *module, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    speedups_state *st = get_state(module);
    Py_ssize_t nkw = kwnames == NULL ? 0 : PyTuple_GET_SIZE(kwnames);
    if (nargs < 1) {
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
    else if (Py_IS_TYPE(target, (PyTypeObject *)st->view_type)) { /* in airlock.policy() */
        int viewed = enqueue_viewed(st, target, args, nargs, kwnames);
        Py_DECREF(target);
        if (viewed == 1) {
            return delegate(st, args, nargs, kwnames);
        }
        if (viewed < 0) {
            return NULL;
        }
        Py_RETURN_NONE;
    }
    else if (nkw) { /* an option into another kind of target: the pure path */
        Py_DECREF(target);
        return delegate(st, args, nargs, kwnames);
    }
    else {
        accepting = PyObject_GetAttr(target, st->str_accepting);
        buffer = accepting == Py_True ? PyObject_GetAttr(target, st->str_buffer) : NULL;
        PyErr_Clear();
    }
    PyObject *task = args[0];
    int status = 1; /* 1: the pure path decides */
    if (accepting == Py_False && buffer != NULL && nkw == 0 && PyCallable_Check(task)
        && (Py_IS_TYPE(target, (PyTypeObject *)st->tick_type)
            || Py_IS_TYPE(target, (PyTypeObject *)st->scope_type))) {
        status = enqueue_observed(st, target, buffer, args, nargs);  /* (watched, maybe) */
    }
    else if (accepting == Py_True && buffer != NULL) {
        int own_buffer = Py_IS_TYPE(buffer, (PyTypeObject *)st->buffer_type);
        if (nkw == 0) {
            if (PyCallable_Check(task)) {
                status = append_plain_record(st, target, buffer, args, nargs);
            }
            else if (own_buffer && Py_IS_TYPE(task, (PyTypeObject *)st->batch_type)) {
                status = append_full_record(st, target, buffer, args, nargs, NULL, &NO_OPTIONS,
                                            NULL, target); /* a batch's payload */
            }
        }
        else if (nkw == 1 && is_key_keyword(st, PyTuple_GET_ITEM(kwnames, 0))
                 && args[nargs] == Py_None && PyCallable_Check(task)) {
            /* a key of None coalesces with nothing */
            status = append_plain_record(st, target, buffer, args, nargs);
        }
        else if (own_buffer) { /* options, and maybe the task's own keywords */
            options opt;
            PyObject *kwargs;
            int valid = parse_options(st, args + nargs, kwnames, &opt, &kwargs);
            if (valid < 0) {
                status = -1;
            }
            else if (valid == 1 && (PyCallable_Check(task)
                                    || (kwargs == NULL
                                        && Py_IS_TYPE(task, (PyTypeObject *)st->batch_type)))) {
                status = append_full_record(st, target, buffer, args, nargs, kwargs, &opt,
                                            NULL, target);
                kwargs = NULL; /* stolen */
            }
            Py_XDECREF(kwargs);
        }
    }
    Py_DECREF(target);
    Py_XDECREF(accepting);
    Py_XDECREF(buffer);
    if (status == 1) {
        return delegate(st, args, nargs, kwnames);
    }
    if (status < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/* -- a tick's inline frame ----------------------------------------------------------------

   ``_frame.frame_methods`` builds two closures, ``open_frame`` and ``close_frame``, that a
   tick keeps as its ``__enter__`` and ``__exit__``. ``inline_frame`` wraps them: the common
   frame — opening from IDLE or KEPT with nothing posted and no scope around; closing an OPEN
   frame that enqueued nothing, or only plain records under the plain loop (``run_plain``
   here) — runs here; every other call goes to the closure, unchanged, which does the same
   and everything else. Keep in sync with ``open_frame``, ``close_frame`` and
   ``_plain.run_plain`` (the order of the writes included). */

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    int closes;          /* 0: the __enter__, 1: the __exit__ */
    PyObject *module;    /* for the state */
    PyObject *tick, *buffer, *inbox, *claim;
    PyObject *fallback;  /* the closure */
    PyObject *failed;    /* _frame.plain_frame_failed: the plain loop's failure, as Python's */
    PyObject *rich_failed;  /* _frame.rich_frame_failed: close_rich's failure, as Python's */
    PyObject *rich_held;    /* _frame.rich_frame_held: a flush that held some effects */
} InlineFrame;

static PyObject *
frame_fallback(InlineFrame *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    return PyObject_Vectorcall(self->fallback, args, nargsf, kwnames);
}

/* ``list.pop()`` of a list of ``size`` > 0 items whose last one is ``True`` (a claim): no
   Python code can run (True is never freed), so it only shortens the list; the next append
   reuses the room. */
static inline void
take_last(PyObject *list, Py_ssize_t size)
{
    PyObject *last = PyList_GET_ITEM(list, size - 1);
    Py_SET_SIZE(list, size - 1);
    Py_DECREF(last);
}

/* open_frame: the claim, then the frame opens (IDLE, or KEPT: the last frame's entries go). */
static PyObject *
open_inline(InlineFrame *self, speedups_state *st)
{
    PyObject *tick = self->tick;
    PyObject *mode = SLOT(tick, st->inline_at), *plan = SLOT(tick, st->plan_at);
    Py_ssize_t claims = PyList_GET_SIZE(self->claim);
    if (claims == 0 || (mode != st->mode_idle && mode != st->mode_kept)
        || plan == NULL || !Py_IS_TYPE(plan, (PyTypeObject *)st->plan_type)) {
        return NULL; /* refused, or the general frame: the closure */
    }
    Py_ssize_t posted = PyObject_Length(self->inbox);
    if (posted != 0) {
        if (posted < 0) {
            PyErr_Clear();
        }
        return NULL;
    }
    PyObject *target = NULL;
    if (PyContextVar_Get(st->current_target, NULL, &target) < 0) {
        PyErr_Clear();
        return NULL;
    }
    int outside = target == st->no_scope;
    Py_XDECREF(target);
    if (!outside) {
        return NULL;
    }
    /* From here on as open_frame does. The claim goes first: should Python code run below
       (a removed entry's finalizer), another opener finds it taken. */
    take_last(self->claim, claims); /* take the claim */
    if (mode == st->mode_kept) {
        PyObject *spent = SLOT(tick, st->spent_at);
        Py_ssize_t count = spent == NULL ? 0 : PyLong_AsSsize_t(spent);
        if (count < 0 || take_head(st, self->buffer, count) < 0) {
            PyList_Append(self->claim, Py_True); /* (the claim back: the frame did not open) */
            return (PyObject *)-1;
        }
        if (set_int_slot(tick, st->spent_at, 0) < 0) {
            PyList_Append(self->claim, Py_True);
            return (PyObject *)-1;
        }
    }
    set_slot(tick, st->owner_at, Py_None);
    PyObject *token = PyContextVar_Set(st->current_target, tick);
    if (token == NULL) {
        PyList_Append(self->claim, Py_True);
        return (PyObject *)-1;
    }
    /* as open_frame: a configuration change on another thread meanwhile (the set may collect,
       and a finalizer let that thread run) wrote GENERAL: the closure opens the general frame
       (this one's last entries are out already). Nothing below runs Python code before the
       three writes. */
    if (SLOT(tick, st->inline_at) != mode) {
        int reset = PyContextVar_Reset(st->current_target, token);
        Py_DECREF(token);
        int back = PyList_Append(self->claim, Py_True);
        return reset < 0 || back < 0 ? (PyObject *)-1 : NULL;
    }
    set_slot(tick, st->inline_at, st->mode_open);
    set_slot(tick, st->state_at, st->state_active);
    plan = SLOT(tick, st->plan_at);  /* (False when observers watch each intent) */
    set_slot(tick, st->accepting_at,
             plan != NULL && Py_IS_TYPE(plan, (PyTypeObject *)st->plan_type)
             && SLOT(plan, st->enqueue_hooked_at) == Py_False ? Py_True : Py_False);
    set_slot(tick, st->token_at, token);
    Py_DECREF(token);
    Py_INCREF(tick);
    return tick;
}

/* The exception being raised, taken out of the thread state (a new reference). */
static PyObject *
take_exception(void)
{
#if PY_VERSION_HEX >= 0x030C0000
    return PyErr_GetRaisedException();
#else
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb != NULL) {
        PyException_SetTraceback(value, tb);
        Py_DECREF(tb);
    }
    Py_XDECREF(type);
    return value;
#endif
}

/* Raise ``exc`` (taken by ``take_exception``) again; steals the reference. */
static void
raise_exception(PyObject *exc)
{
#if PY_VERSION_HEX >= 0x030C0000
    PyErr_SetRaisedException(exc);
#else
    PyObject *type = (PyObject *)Py_TYPE(exc);
    Py_INCREF(type);
    PyErr_Restore(type, exc, PyException_GetTraceback(exc));
#endif
}

/* ``Buffer.take(count)``: the first ``count`` entries and the origin marks removed, and
   counted in ``removed``, holding the shift token (``_buffer.SHIFT_TOKEN``: a thread naming
   entries in place never writes to an index that moved). 0, or -1 with an exception set.
   Keep in sync with it. */
static int
take_head(speedups_state *st, PyObject *buffer, Py_ssize_t count)
{
    PyObject *token = st->shift_token;
    Py_ssize_t held = PyList_GET_SIZE(token);
    if (held > 0) {  /* take_token(): list.pop() as it shrinks a list in place (no resize) */
        PyObject *item = PyList_GET_ITEM(token, held - 1);
        Py_SET_SIZE(token, held - 1);
        Py_DECREF(item);
    }
    else {  /* another thread names entries: a few list operations (else it raises) */
        PyObject *taken = PyObject_CallNoArgs(st->take_for_removal);
        if (taken == NULL) {
            return -1;
        }
        Py_DECREF(taken);
    }
    PyObject *before = SLOT(buffer, st->removed_at);
    Py_ssize_t sum = before == NULL ? -1 : PyLong_AsSsize_t(before);
    PyObject *after = NULL;
    if (sum >= 0) {
        after = PyLong_FromSsize_t(sum + count);
    }
    else if (!PyErr_Occurred()) {
        PyErr_SetString(PyExc_SystemError, "airlock: a buffer's removed count is not a count");
    }
    int status = after == NULL ? -1 : PyList_SetSlice(buffer, 0, count, NULL);
    if (status == 0) {
        set_slot(buffer, st->removed_at, after);
        set_slot(buffer, st->origins_at, Py_None);
    }
    Py_XDECREF(after);
    PyObject *exc = status < 0 ? take_exception() : NULL;
    status = PyList_Append(token, Py_True);  /* put_token(True) */
    if (exc != NULL) {
        if (status == 0) {
            raise_exception(exc);
        }
        else {
            Py_DECREF(exc);  /* (the append's own error is the one raised) */
        }
        return -1;
    }
    return status;
}

/* ``task``'s ``result`` as the loops see it: a coroutine, which nothing would await, fails
   the effect (``_executor.refuse_coroutine``, as the pure loops do). Steals ``result``. */
static inline PyObject *
checked_result(speedups_state *st, PyObject *task, PyObject *result)
{
    if (result == NULL || result == Py_None || !PyCoro_CheckExact(result)) {
        return result;
    }
    PyObject *refused = PyObject_CallFunctionObjArgs(st->refuse_coroutine, task, result, NULL);
    Py_DECREF(result);
    return refused;  /* (NULL: it raises) */
}

/* ``task(*args, **kwargs)`` of a plain record whose args are a tuple and kwargs a dict (the
   plain loops check): the result, or NULL with an exception set. */
static inline PyObject *
call_plain_record(speedups_state *st, PyObject *entry)
{
    PyObject *task = PyTuple_GET_ITEM(entry, 0), *args = PyTuple_GET_ITEM(entry, 1);
    PyObject *kwargs = PyTuple_GET_ITEM(entry, 2);
    return checked_result(st, task, PyDict_GET_SIZE(kwargs)
        ? PyObject_Call(task, args, kwargs)
        : PyObject_Vectorcall(task, &PyTuple_GET_ITEM(args, 0), (size_t)PyTuple_GET_SIZE(args),
                              NULL));
}

/* A task raised ``exc`` (stolen) and ``done`` is what recording its failure returned (NULL: the
   recording raised too): raise ``exc`` again, or the recording's own error in ``exc``'s
   context, as Python's ``except`` branch would. */
static void
reraise_after(PyObject *done, PyObject *exc)
{
    if (done != NULL) {
        Py_DECREF(done);
        raise_exception(exc);
        return;
    }
    PyObject *error = take_exception();
    if (error != exc) {
        PyException_SetContext(error, exc);  /* steals exc */
    }
    else {
        Py_DECREF(exc);
    }
    raise_exception(error);
}

/* ``time.perf_counter_ns()`` as a C integer, read from the clock it reads (the pure code
   subtracts the two: ``run_plain`` goes on with a start the kernel read); -1 with an
   exception set. */
static long long
now_ns(void)
{
#if PY_VERSION_HEX >= 0x030D0000
    PyTime_t now;
    if (PyTime_PerfCounter(&now) < 0) {
        return -1;
    }
    return (long long)now;
#else
    return (long long)_PyTime_GetPerfCounter();  /* (it cannot fail) */
#endif
}

static int count_frame(speedups_state *st, PyObject *tick);

/* close_frame's ``_reset_target(tick._token)`` and ``tick.frame += 1``: 0, or -1 with an
   exception set. */
static int
reset_and_count(speedups_state *st, PyObject *tick)
{
    if (PyContextVar_Reset(st->current_target, SLOT(tick, st->token_at)) < 0) {
        return -1;
    }
    return count_frame(st, tick);
}

/* ``tick.frame += 1``: 0, or -1 with an exception set. */
static int
count_frame(speedups_state *st, PyObject *tick)
{
    PyObject *frame = SLOT(tick, st->frame_at);  /* an int (checked by the callers) */
    Py_ssize_t count = PyLong_AsSsize_t(frame);
    if (count >= 0 && count < PY_SSIZE_T_MAX) {
        return set_int_slot(tick, st->frame_at, count + 1);
    }
    if (count == -1 && PyErr_Occurred()) {  /* past a C integer: Python's addition */
        PyErr_Clear();
    }
    PyObject *one = PyLong_FromLong(1);
    PyObject *next = one == NULL ? NULL : PyNumber_Add(frame, one);
    Py_XDECREF(one);
    if (next == NULL) {
        return -1;
    }
    set_slot(tick, st->frame_at, next);
    Py_DECREF(next);
    return 0;
}

/* The end of a watched frame (close_frame's ``tick._notify_flushed(failing=False)``): the
   observers' errors reported, and their ``flushed`` told; nothing to do, and no call, when
   no error waits and nobody listens to ``flushed`` (an inline frame's observers never do:
   ``update_inline``). 0, or -1 with an exception set. */
static int
tell_flushed(speedups_state *st, PyObject *tick)
{
    PyObject *observing = SLOT(tick, st->observing_at);
    if (observing != NULL && Py_IS_TYPE(observing, (PyTypeObject *)st->observer_set_type)
        && SLOT(observing, st->set_failure_at) == Py_None) {
        PyObject *by_hook = SLOT(observing, st->set_listeners_at);
        PyObject *listeners = by_hook != NULL && PyDict_CheckExact(by_hook)
                              ? PyDict_GetItemWithError(by_hook, st->str_flushed) : NULL;
        if (listeners != NULL && PyTuple_CheckExact(listeners)
            && PyTuple_GET_SIZE(listeners) == 0) {
            return 0;
        }
        if (PyErr_Occurred()) {
            return -1;
        }
    }
    PyObject *done = PyObject_CallMethodOneArg(tick, st->str_notify_flushed, Py_False);
    Py_XDECREF(done);
    return done == NULL ? -1 : 0;
}

/* The last step of a frame that has completely ended: the claim back (``told`` < 0: with the
   error telling the observers raised, which goes on). None, or -1 with an exception set. */
static PyObject *
give_claim_back(InlineFrame *self, int told)
{
    PyObject *error = told < 0 ? take_exception() : NULL;
    int back = PyList_Append(self->claim, Py_True);
    if (error != NULL) {
        if (back < 0) {  /* (a MemoryError: the observers' error goes on) */
            PyErr_Clear();
        }
        raise_exception(error);
        return (PyObject *)-1;
    }
    if (back < 0) {
        return (PyObject *)-1;
    }
    Py_RETURN_NONE;
}

/* close_frame's ``keep_or_drop`` inlined: the ``taken`` entries a frame flushed kept (for
   ``intents``) or taken out; ``*spent``: how many stay at the buffer's head. 0, or -1 with an
   exception set. */
static int
keep_or_drop_entries(InlineFrame *self, speedups_state *st, Py_ssize_t taken, Py_ssize_t *spent)
{
    PyObject *tick = self->tick;
    /* ``keep`` or ``not buffer.take_now(taken)``: the token taken now (maybe by this thread,
       interrupted) leaves them to the next frame. GENERAL (a flush, or a configuration change
       on another thread, set it) stays: read right before each write, after the removal,
       whose finalizers may let another thread run */
    if (SLOT(tick, st->keep_at) == Py_True || PyList_GET_SIZE(st->shift_token) == 0) {
        if (set_int_slot(tick, st->spent_at, taken) < 0) {
            return -1;
        }
        if (SLOT(tick, st->inline_at) != st->mode_general) {
            set_slot(tick, st->inline_at, st->mode_kept);
        }
        *spent = taken;
    }
    else {
        if (take_head(st, self->buffer, taken) < 0) { /* buffer.take(taken) */
            return -1;
        }
        if (SLOT(tick, st->inline_at) != st->mode_general) {
            set_slot(tick, st->inline_at, st->mode_idle);
        }
        *spent = 0;
    }
    return 0;
}

/* A new list of ``list``'s items from ``start`` on (none when it is shorter), read once
   the list is allocated: ``PyList_GetSlice`` reads the bounds first, and its allocation may
   collect (a finalizer that shortens ``list`` would have it read past the end). NULL with
   an exception set. */
static PyObject *
snapshot_of(PyObject *list, Py_ssize_t start)
{
    for (int tries = 0; tries < 8; tries++) {
        Py_ssize_t size = PyList_GET_SIZE(list), n = size > start ? size - start : 0;
        PyObject *copy = PyList_New(n);  /* (may collect) */
        if (copy == NULL) {
            return NULL;
        }
        if (PyList_GET_SIZE(list) == size) {
            for (Py_ssize_t i = 0; i < n; i++) {  /* (nothing here runs Python code) */
                PyObject *item = PyList_GET_ITEM(list, start + i);
                Py_INCREF(item);
                PyList_SET_ITEM(copy, i, item);
            }
            return copy;
        }
        Py_DECREF(copy);  /* (changed meanwhile: again) */
    }
    PyErr_SetString(PyExc_RuntimeError,
                    "airlock: a buffer kept changing while a frame copied it (finalizers that "
                    "enqueue or discard)");
    return NULL;
}

/* defined below, with what they use */
static PyObject *end_inline_frame(InlineFrame *self, speedups_state *st, Py_ssize_t taken,
                                  PyObject *stats, int watched);
static PyObject *rich_failed(InlineFrame *self, PyObject *stats, long long started,
                             PyObject *stage_input, Py_ssize_t taken);

/* close_frame of an OPEN frame of plain records under the plain loop: ``run_plain`` (a copy
   of the entries present now, each called in order) and the frame's end. A task that raises
   goes to ``plain_frame_failed``, which does what run_plain's and close_frame's ``except``
   branches do; then its error is raised again. Anything else: the closure. */
static PyObject *
close_plain(InlineFrame *self, speedups_state *st)
{
    PyObject *tick = self->tick, *buffer = self->buffer;
    PyObject *plan = SLOT(tick, st->plan_at);
    if (SLOT(buffer, st->rich_at) != Py_False || plan == NULL
        || !Py_IS_TYPE(plan, (PyTypeObject *)st->plan_type)
        || SLOT(plan, st->plain_loop_at) != Py_True || SLOT(tick, st->token_at) == NULL
        || SLOT(tick, st->frame_at) == NULL || !PyLong_CheckExact(SLOT(tick, st->frame_at))) {
        return NULL;
    }
    PyObject *taken = snapshot_of(buffer, 0); /* the copy */
    if (taken == NULL) {
        return (PyObject *)-1;
    }
    Py_ssize_t count = PyList_GET_SIZE(taken);
    for (Py_ssize_t i = 0; i < count; i++) { /* plain records only, or the closure decides */
        PyObject *entry = PyList_GET_ITEM(taken, i);
        if (!PyTuple_CheckExact(entry) || PyTuple_GET_SIZE(entry) != 3
            || !PyTuple_CheckExact(PyTuple_GET_ITEM(entry, 1))
            || !PyDict_CheckExact(PyTuple_GET_ITEM(entry, 2))) {
            Py_DECREF(taken);
            return NULL;
        }
    }
    set_slot(tick, st->accepting_at, Py_False);
    set_slot(tick, st->state_at, st->state_flushed); /* the tick stays current meanwhile */
    PyObject *owner = PyLong_FromUnsignedLong(PyThread_get_thread_ident());
    if (owner == NULL) {
        Py_DECREF(taken);
        return (PyObject *)-1;
    }
    set_slot(tick, st->owner_at, owner); /* named to a second opener while this runs */
    Py_DECREF(owner);
    long long started = 0;
    if (SLOT(tick, st->timed_at) == Py_True && (started = now_ns()) < 0) {
        Py_DECREF(taken);
        return (PyObject *)-1;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *entry = PyList_GET_ITEM(taken, i);
        PyObject *result = call_plain_record(st, entry);
        if (result == NULL) {
            PyObject *exc = take_exception();
            PyObject *done = PyObject_CallFunction(self->failed, "OOnnL", tick, exc, count, i,
                                                   started);
            Py_DECREF(taken);
            reraise_after(done, exc);
            return (PyObject *)-1;
        }
        Py_DECREF(result);
    }
    Py_DECREF(taken);
    if (started) {
        long long ended = now_ns();
        if (ended < 0 || set_int_slot(tick, st->plain_ns_at, ended - started) < 0) {
            return rich_failed(self, Py_None, -1, NULL, count);  /* (close_frame's ``except``) */
        }
    }
    if (set_int_slot(tick, st->plain_count_at, count) < 0) {
        return rich_failed(self, Py_None, -1, NULL, count);  /* (close_frame's ``except``) */
    }
    return end_inline_frame(self, st, count, NULL, 0);
}

/* The per-intent stages and the dispatch loop, defined below. */
static PyObject *coalesce(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
static PyObject *order(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
static PyObject *merge_batches(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
static PyObject *call_each(PyObject *module, PyObject *const *args, Py_ssize_t nargs);

/* ``obj.<slot> = value`` for an int ``value``; 0, or -1 with an exception set. */
#define SET_INT(obj, offset, value) set_int_slot((obj), (offset), (long long)(value))

/* A failure of close_rich: ``rich_frame_failed`` does what the ``except`` branches of
   close_frame, run_flush and run_pipeline do where it happened (``started`` < 0: before the
   flush; ``stage_input``: the entries of the stage that raised, NULL outside the stages;
   ``taken`` >= 0: after the flush) and raises. Returns -1 for the caller to return. */
static PyObject *
rich_failed(InlineFrame *self, PyObject *stats, long long started, PyObject *stage_input,
            Py_ssize_t taken)
{
    PyObject *exc = take_exception();
    PyObject *when = started < 0 ? Py_NewRef(Py_None) : PyLong_FromLongLong(started);
    PyObject *count = taken < 0 ? Py_NewRef(Py_None) : PyLong_FromSsize_t(taken);
    if (when != NULL && count != NULL) {
        PyObject *done = PyObject_CallFunctionObjArgs(
            self->rich_failed, self->tick, exc, stats, when,
            stage_input == NULL ? Py_None : stage_input, count, NULL);
        Py_XDECREF(done);  /* (it always raises) */
    }
    else {
        Py_INCREF(exc);
        raise_exception(exc);  /* (a MemoryError here: the task's error instead) */
    }
    Py_XDECREF(when);
    Py_XDECREF(count);
    Py_DECREF(exc);
    return (PyObject *)-1;
}

/* ``FlushStats.reset()`` of an exact FlushStats: every counter 0, ``failures`` emptied
   (keep in sync: every slot but ``failures`` is a counter). 0, or -1 with an exception set. */
static int
reset_stats(speedups_state *st, PyObject *stats)
{
    for (Py_ssize_t i = 0; i < st->counters; i++) {
        if (SLOT(stats, st->counters_at[i]) != st->zero) {  /* (most stay 0 frame to frame) */
            set_slot(stats, st->counters_at[i], st->zero);
        }
    }
    PyObject *failures = SLOT(stats, st->failures_at);
    int any = failures == NULL ? 1 : PyObject_IsTrue(failures);
    if (any > 0) {
        PyObject *empty = PyList_New(0);
        if (empty == NULL) {
            return -1;
        }
        set_slot(stats, st->failures_at, empty);
        Py_DECREF(empty);
    }
    return any < 0 ? -1 : 0;
}

/* ``tick._flush_context(stats)``: for an exact TickScope whose context exists, what
   ``_settle.prepare`` and ``TickScope._flush_context`` write, in place (close_rich's
   conditions hold: no parent, no hold, no carry; keep in sync with both); otherwise the
   method. A new reference, or NULL with an exception set. */
static PyObject *
prepared_context(speedups_state *st, PyObject *tick, PyObject *stats)
{
    PyObject *ctx = SLOT(tick, st->ctx_at), *plan = SLOT(tick, st->plan_at);
    PyObject *buffer = SLOT(tick, st->buffer_at);
    if (!Py_IS_TYPE(tick, (PyTypeObject *)st->tick_type) || ctx == NULL
        || !Py_IS_TYPE(ctx, (PyTypeObject *)st->ctx_type)) {
        return PyObject_CallMethodOneArg(tick, st->str_flush_context, stats);
    }
    if (SLOT(plan, st->watching_at) == Py_True) {  /* ``ctx.tell = scope._observing.tell`` */
        PyObject *observing = SLOT(tick, st->observing_at), *tell = SLOT(ctx, st->ctx_tell_at);
        if (observing == NULL || !Py_IS_TYPE(observing, (PyTypeObject *)st->observer_set_type)) {
            return PyObject_CallMethodOneArg(tick, st->str_flush_context, stats);
        }
        if (tell == NULL || !PyMethod_Check(tell) || PyMethod_GET_SELF(tell) != observing
            || PyMethod_GET_FUNCTION(tell) != st->observer_set_tell) {  /* (else: the same) */
            /* held: the allocation may collect, and the old value's finalizer run Python code
               that rebinds the tick's context */
            Py_INCREF(ctx);
            Py_INCREF(observing);
            PyObject *bound = PyMethod_New(st->observer_set_tell, observing);
            Py_DECREF(observing);  /* (the bound method holds it) */
            if (bound == NULL) {
                Py_DECREF(ctx);
                return NULL;
            }
            set_slot(ctx, st->ctx_tell_at, bound);
            Py_DECREF(bound);
            int same = SLOT(tick, st->ctx_at) == ctx;
            Py_DECREF(ctx);
            plan = SLOT(tick, st->plan_at);  /* read again, as everything below */
            buffer = SLOT(tick, st->buffer_at);
            if (!same || plan == NULL || !Py_IS_TYPE(plan, (PyTypeObject *)st->plan_type)
                || buffer == NULL || !Py_IS_TYPE(buffer, (PyTypeObject *)st->buffer_type)) {
                /* (rebound meanwhile: the method does it all) */
                return PyObject_CallMethodOneArg(tick, st->str_flush_context, stats);
            }
            ctx = SLOT(tick, st->ctx_at);
        }
    }
    PyObject *from[] = {
        stats, SLOT(tick, st->policy_at), SLOT(tick, st->executor_at),
        SLOT(tick, st->order_by_at), SLOT(tick, st->errors_at), SLOT(plan, st->watching_at),
        SLOT(plan, st->judging_at), SLOT(plan, st->dispatcher_at),
        SLOT(buffer, st->filtering_at), SLOT(buffer, st->keyed_at),
        SLOT(buffer, st->batching_at), Py_None, Py_None, SLOT(tick, st->frame_budget_at),
    };
    Py_ssize_t to[] = {
        st->ctx_stats_at, st->ctx_policy_at, st->ctx_executor_at, st->ctx_order_by_at,
        st->ctx_errors_at, st->ctx_watching_at, st->ctx_judging_at, st->ctx_dispatch_at,
        st->ctx_filtering_at, st->ctx_keyed_at, st->ctx_batching_at, st->ctx_capture_at,
        st->ctx_hold_at, st->ctx_budget_at,
    };
    for (size_t i = 0; i < sizeof(from) / sizeof(from[0]); i++) {
        if (from[i] == NULL) {  /* an unset slot: the method, which raises as Python would */
            return PyObject_CallMethodOneArg(tick, st->str_flush_context, stats);
        }
    }
    /* held while written, the context too: each write releases the context's last value,
       whose finalizer may run Python code that rebinds (and frees) one not written yet, or
       the tick's context */
    for (size_t i = 0; i < sizeof(from) / sizeof(from[0]); i++) {
        Py_INCREF(from[i]);
    }
    Py_INCREF(ctx);
    for (size_t i = 0; i < sizeof(from) / sizeof(from[0]); i++) {
        set_slot(ctx, to[i], from[i]);
    }
    for (size_t i = 0; i < sizeof(from) / sizeof(from[0]); i++) {
        Py_DECREF(from[i]);
    }
    return ctx;
}

/* ``len(store)`` of a tick's held effects (``HeldEffects.__len__`` inlined for the exact
   class: its count): >= 0, or -1 with an exception set. */
static Py_ssize_t
held_count(speedups_state *st, PyObject *store)
{
    if (store != NULL && Py_IS_TYPE(store, (PyTypeObject *)st->held_type)
        && SLOT(store, st->waiting_at) != NULL && PyLong_CheckExact(SLOT(store, st->waiting_at))) {
        Py_ssize_t count = PyLong_AsSsize_t(SLOT(store, st->waiting_at));
        if (count < 0 && !PyErr_Occurred()) {  /* (as len() says of a negative __len__) */
            PyErr_SetString(PyExc_ValueError, "__len__() should return >= 0");
        }
        return count;
    }
    return store == NULL ? 0 : PyObject_Length(store);
}

/* The end of an inline frame that flushed ``taken`` entries (close_frame's last ``try``):
   first the entries kept or taken out (whatever fails after, they never run again), then
   the frame's context reset and its count; for a pipeline frame (``stats``): what arrived
   meanwhile rescanned, failures sending the next frame the general way, ``stats.pending``;
   the observers told (``watched``: see ``tell_flushed``); the claim back on every path (an
   error: the next frame the general way). Keep in sync with close_frame. */
static PyObject *
end_inline_frame(InlineFrame *self, speedups_state *st, Py_ssize_t taken, PyObject *stats,
                 int watched)
{
    PyObject *tick = self->tick, *buffer = self->buffer;
    Py_ssize_t spent = 0;
    int status = keep_or_drop_entries(self, st, taken, &spent);
    PyObject *error = status < 0 ? take_exception() : NULL;
    /* the context back whatever happened (close_frame's ``finally``), then the count */
    int reset = PyContextVar_Reset(st->current_target, SLOT(tick, st->token_at));
    if (error != NULL) {
        if (reset < 0) {
            PyErr_Clear();  /* (the first error goes on) */
        }
        raise_exception(error);
    }
    else if (reset < 0) {
        status = -1;
    }
    if (status == 0) {
        status = count_frame(st, tick);
    }
    if (status == 0 && stats != NULL) {
        if (PyList_GET_SIZE(buffer) > spent) {  /* ``buffer.rescan(tick._spent)`` */
            PyObject *start = PyLong_FromSsize_t(spent);
            PyObject *done = start == NULL ? NULL
                             : PyObject_CallMethodOneArg(buffer, st->str_rescan, start);
            Py_XDECREF(start);
            status = done == NULL ? -1 : 0;
            Py_XDECREF(done);
        }
        else {
            set_slot(buffer, st->rich_at, Py_False);  /* (rescan of nothing) */
        }
    }
    if (status == 0 && stats != NULL) {
        PyObject *failures = SLOT(stats, st->failures_at);
        int failed = failures == NULL ? -1 : PyObject_IsTrue(failures);
        if (failed < 0 && !PyErr_Occurred()) {
            PyErr_SetString(PyExc_AttributeError, "failures");
        }
        if (failed > 0) {
            set_slot(tick, st->inline_at, st->mode_general); /* the next frame releases them */
        }
        /* ``stats.pending = tick.pending``: what arrived meanwhile, posted, carried, held */
        Py_ssize_t posted = failed < 0 ? -1 : PyObject_Length(self->inbox);
        Py_ssize_t carried = posted < 0 ? -1 : PyObject_Length(SLOT(tick, st->carry_at));
        Py_ssize_t waiting = carried < 0 ? -1 : held_count(st, SLOT(tick, st->held_at));
        status = waiting < 0 ? -1 : SET_INT(stats, st->pending_at,
                                            PyList_GET_SIZE(buffer) - spent + posted + carried
                                            + waiting);
    }
    if (status < 0) {
        set_slot(tick, st->inline_at, st->mode_general);
        return give_claim_back(self, -1);
    }
    return give_claim_back(self, watched ? tell_flushed(st, tick) : 0);
}

/* close_frame of an OPEN frame of records and Intents, rich (or under a plan with no plain
   loop: an ``order_by``, errors="continue", observers), under a plan that runs the
   pipeline on records with the default dispatch loop (no policy that judges, no executor,
   no budget) or on the Intents that observers watch (every entry one), with no carry, no
   parent, no origin marks, no held task and no local policy that judges: ``Scope._release``,
   ``_settle.run_flush`` and ``_pipeline.run_pipeline`` with the compiled stages, then
   close_frame's end. The first rich frame (no stats or flush context yet) and every other
   one: the closure. Keep in sync with close_frame's rich branch and those three (the order
   of the writes included). */
static PyObject *close_rich_holding(InlineFrame *self, speedups_state *st,
                                    PyObject **stats_held);

static PyObject *
close_rich(InlineFrame *self, speedups_state *st)
{
    PyObject *stats_held = NULL;  /* the stats in use: an effect may rebind the tick's */
    PyObject *result = close_rich_holding(self, st, &stats_held);
    Py_XDECREF(stats_held);
    return result;
}

/* close_rich, the stats it uses held in ``*stats_held`` (released by the caller). */
static PyObject *
close_rich_holding(InlineFrame *self, speedups_state *st, PyObject **stats_held)
{
    PyObject *tick = self->tick, *buffer = self->buffer;
    PyObject *plan = SLOT(tick, st->plan_at), *stats = SLOT(tick, st->stats_at);
    PyObject *ctx = SLOT(tick, st->ctx_at), *carry = SLOT(tick, st->carry_at);
    if (plan == NULL || !Py_IS_TYPE(plan, (PyTypeObject *)st->plan_type)) {
        return NULL;
    }
    int watched = SLOT(plan, st->watching_at) == Py_True;
    if (watched) {  /* ``_materialize()``: every entry is an Intent already, or the closure */
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(buffer); i++) {
            if (!Py_IS_TYPE(PyList_GET_ITEM(buffer, i), (PyTypeObject *)st->intent_type)) {
                return NULL;
            }
        }
    }
    if ((SLOT(plan, st->on_records_at) != Py_True
         && !(watched && SLOT(plan, st->policy_hooked_at) == Py_False))
        || SLOT(plan, st->dispatcher_at) != Py_None
        || SLOT(plan, st->judging_at) != Py_False
        || stats == NULL || !Py_IS_TYPE(stats, (PyTypeObject *)st->stats_type)
        || ctx == NULL || ctx == Py_None || SLOT(tick, st->parent_at) != Py_None
        || SLOT(buffer, st->origins_at) != Py_None || SLOT(buffer, st->holding_at) != Py_False
        || SLOT(buffer, st->filtering_at) != Py_False || SLOT(tick, st->token_at) == NULL
        || SLOT(tick, st->frame_at) == NULL || !PyLong_CheckExact(SLOT(tick, st->frame_at))
        || carry == NULL || SLOT(tick, st->order_by_at) == NULL) {
        return NULL;
    }
    Py_ssize_t carried = PyObject_Length(carry);
    if (carried != 0) {  /* (a budget's leftovers go first: the closure) */
        if (carried < 0) {
            PyErr_Clear();
        }
        return NULL;
    }
    *stats_held = Py_NewRef(stats);
    /* close_frame */
    set_slot(tick, st->accepting_at, Py_False);
    set_slot(tick, st->state_at, st->state_flushed); /* the tick stays current meanwhile */
    PyObject *owner = PyLong_FromUnsignedLong(PyThread_get_thread_ident());
    if (owner == NULL) {
        return rich_failed(self, stats, -1, NULL, -1);
    }
    set_slot(tick, st->owner_at, owner);
    Py_DECREF(owner);
    /* Scope._release: fresh_stats, the clock, the records */
    PyObject *done;
    if (reset_stats(st, stats) < 0) {
        return rich_failed(self, stats, -1, NULL, -1);
    }
    set_slot(tick, st->plain_count_at, Py_None);
    long long started = now_ns();
    if (started < 0) {
        return rich_failed(self, stats, -1, NULL, -1);
    }
    PyObject *entries = snapshot_of(buffer, 0);
    if (entries == NULL) {
        return rich_failed(self, stats, -1, NULL, -1);
    }
    set_slot(buffer, st->origins_at, Py_None);
    set_slot(tick, st->state_at, st->state_flushed);
    /* run_flush: the ledger's count, the flush context, run_pipeline */
    PyObject *stage_input = NULL;  /* the input of the stage running (for its failure) */
    if (SET_INT(stats, st->enqueued_at, PyList_GET_SIZE(entries)) < 0) {
        goto fail_before;
    }
    ctx = prepared_context(st, tick, stats);
    if (ctx == NULL) {
        goto fail_flushing;
    }
    struct { PyObject *(*run)(PyObject *, PyObject *const *, Py_ssize_t); int on; } stages[] = {
        {coalesce, SLOT(buffer, st->keyed_at) == Py_True},
        {order, SLOT(tick, st->order_by_at) != Py_None},
        {merge_batches, SLOT(buffer, st->batching_at) == Py_True},
    };
    for (size_t i = 0; i < sizeof(stages) / sizeof(stages[0]); i++) {
        if (!stages[i].on || (stages[i].run == order && PyList_GET_SIZE(entries) == 0)) {
            continue;
        }
        PyObject *args[2] = {entries, ctx};
        PyObject *next = stages[i].run(self->module, args, 2);
        if (next == NULL) {
            stage_input = entries;
            goto fail_flushing;
        }
        Py_SETREF(entries, next);
    }
    PyObject *args[2] = {entries, ctx};
    done = call_each(self->module, args, 2);
    if (done == NULL) {
        goto fail_flushing;
    }
    Py_DECREF(done);
    Py_CLEAR(ctx);
    Py_CLEAR(entries);
    /* run_flush's finally */
    long long ended = now_ns();
    PyObject *failures = SLOT(stats, st->failures_at);
    if (ended < 0 || SET_INT(stats, st->flush_ns_at, ended - started) < 0) {
        return rich_failed(self, stats, -1, NULL, -1);  /* (raised in run_flush's finally) */
    }
    int any = failures == NULL ? -1 : PyObject_IsTrue(failures);
    if (any != 0) {  /* failures under errors="continue": the next flush takes the general path */
        if (any < 0 && !PyErr_Occurred()) {
            PyErr_SetString(PyExc_AttributeError, "failures");
        }
        done = any < 0 ? NULL
               : PyObject_CallMethodOneArg(buffer, st->str_force_general, Py_False);
        if (done == NULL) {
            return rich_failed(self, stats, -1, NULL, -1);
        }
        Py_DECREF(done);
    }
    /* close_frame: ``current_stats(tick)`` (the same stats: _plain_count is None), what the
       flush took, what it held */
    stats = SLOT(tick, st->stats_at);
    Py_XSETREF(*stats_held, Py_XNewRef(stats));
    PyObject *enqueued = stats == NULL ? NULL : SLOT(stats, st->enqueued_at);
    Py_ssize_t taken = enqueued == NULL ? -1 : PyLong_AsSsize_t(enqueued);
    if (taken < 0 || !Py_IS_TYPE(stats, (PyTypeObject *)st->stats_type)) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_RuntimeError, "airlock: a frame's stats changed in its flush");
        }
        return rich_failed(self, stats == NULL ? Py_None : stats, -1, NULL, -1);
    }
    Py_ssize_t held = held_count(st, SLOT(tick, st->held_at));
    if (held != 0) {
        done = held < 0 ? NULL : PyObject_CallFunctionObjArgs(self->rich_held, tick, stats, NULL);
        if (done == NULL) {
            return rich_failed(self, stats, -1, NULL, taken);
        }
        Py_DECREF(done);
    }
    return end_inline_frame(self, st, taken, stats, watched);

fail_before:
    Py_DECREF(entries);
    return rich_failed(self, stats, -1, NULL, -1);
fail_flushing:
    {
        PyObject *result = rich_failed(self, stats, started, stage_input, -1);
        Py_XDECREF(ctx);
        Py_DECREF(entries);
        return result;
    }
}

/* close_frame of an OPEN frame that enqueued nothing. */
static PyObject *
close_inline(InlineFrame *self, speedups_state *st, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *tick = self->tick;
    if (nargs != 3 || args[1] != Py_None || SLOT(tick, st->inline_at) != st->mode_open) {
        return NULL;
    }
    if (PyList_GET_SIZE(self->buffer) != 0) {  /* close_frame's ``rich``: the pipeline */
        PyObject *plan = SLOT(tick, st->plan_at);
        int rich = SLOT(self->buffer, st->rich_at) != Py_False || plan == NULL
                   || !Py_IS_TYPE(plan, (PyTypeObject *)st->plan_type)
                   || SLOT(plan, st->plain_loop_at) != Py_True;
        return rich ? close_rich(self, st) : close_plain(self, st);
    }
    PyObject *frame = SLOT(tick, st->frame_at);
    if (SLOT(tick, st->token_at) == NULL || frame == NULL || !PyLong_CheckExact(frame)) {
        return NULL;
    }
    set_slot(tick, st->accepting_at, Py_False);
    set_slot(tick, st->state_at, st->state_flushed);
    if (reset_and_count(st, tick) < 0 || set_int_slot(tick, st->plain_count_at, 0) < 0) {
        return (PyObject *)-1;
    }
    if (SLOT(tick, st->inline_at) != st->mode_general) {  /* (a configuration change stays) */
        set_slot(tick, st->inline_at, st->mode_idle);
    }
    PyObject *plan = SLOT(tick, st->plan_at);  /* (a post's hook may have failed in the frame) */
    int told = plan != NULL && Py_IS_TYPE(plan, (PyTypeObject *)st->plan_type)
               && SLOT(plan, st->watching_at) == Py_True ? tell_flushed(st, tick) : 0;
    return give_claim_back(self, told);
}

static PyObject *
inline_frame_call(PyObject *callable, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    InlineFrame *self = (InlineFrame *)callable;
    speedups_state *st = get_state(self->module);
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    PyObject *result = NULL;
    if (kwnames == NULL || PyTuple_GET_SIZE(kwnames) == 0) {
        result = self->closes ? close_inline(self, st, args, nargs)
                              : (nargs == 0 ? open_inline(self, st) : NULL);
    }
    if (result == (PyObject *)-1) {
        return NULL; /* an error, raised here */
    }
    return result != NULL ? result : frame_fallback(self, args, nargsf, kwnames);
}

static int
inline_frame_traverse(InlineFrame *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->module);
    Py_VISIT(self->tick);
    Py_VISIT(self->buffer);
    Py_VISIT(self->inbox);
    Py_VISIT(self->claim);
    Py_VISIT(self->fallback);
    Py_VISIT(self->failed);
    Py_VISIT(self->rich_failed);
    Py_VISIT(self->rich_held);
    return 0;
}

static int
inline_frame_clear(InlineFrame *self)
{
    Py_CLEAR(self->module);
    Py_CLEAR(self->tick);
    Py_CLEAR(self->buffer);
    Py_CLEAR(self->inbox);
    Py_CLEAR(self->claim);
    Py_CLEAR(self->fallback);
    Py_CLEAR(self->failed);
    Py_CLEAR(self->rich_failed);
    Py_CLEAR(self->rich_held);
    return 0;
}

static void
inline_frame_dealloc(InlineFrame *self)
{
    PyTypeObject *type = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    (void)inline_frame_clear(self);
    type->tp_free(self);
    Py_DECREF(type);
}

static PyObject *
inline_frame_repr(InlineFrame *self)
{
    return PyUnicode_FromFormat("<compiled %s of %R>",
                                self->closes ? "close_frame" : "open_frame", self->fallback);
}

static PyMemberDef inline_frame_members[] = {
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(InlineFrame, vectorcall), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot inline_frame_slots[] = {
    {Py_tp_call, PyVectorcall_Call},
    {Py_tp_traverse, inline_frame_traverse},
    {Py_tp_clear, inline_frame_clear},
    {Py_tp_dealloc, inline_frame_dealloc},
    {Py_tp_repr, inline_frame_repr},
    {Py_tp_members, inline_frame_members},
    {0, NULL},
};

static PyType_Spec inline_frame_spec = {
    .name = "airlock._speedups.InlineFrame",
    .basicsize = sizeof(InlineFrame),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .slots = inline_frame_slots,
};

static PyObject *
new_inline_frame(PyObject *module, int closes, PyObject *tick, PyObject *fallback)
{
    speedups_state *st = get_state(module);
    InlineFrame *self = PyObject_GC_New(InlineFrame, (PyTypeObject *)st->frame_type);
    if (self == NULL) {
        return NULL;
    }
    Py_INCREF(st->frame_type); /* a heap type: each instance holds it */
    self->vectorcall = inline_frame_call;
    self->closes = closes;
    Py_INCREF(module);
    self->module = module;
    Py_INCREF(tick);
    self->tick = tick;
    self->buffer = SLOT(tick, st->buffer_at);
    Py_XINCREF(self->buffer);
    self->inbox = NULL;
    self->claim = NULL;
    self->failed = NULL;
    self->rich_failed = NULL;
    self->rich_held = NULL;
    Py_INCREF(fallback);
    self->fallback = fallback;
    PyObject_GC_Track(self);
    return (PyObject *)self;
}

PyDoc_STRVAR(inline_frame_doc,
"inline_frame($module, tick, inbox, claim, open_frame, close_frame, plain_frame_failed,\n"
"             rich_frame_failed, rich_frame_held, /)\n"
"--\n"
"\n"
"The tick's ``__enter__`` and ``__exit__``: the common frame compiled, every other call\n"
"handed to ``open_frame`` / ``close_frame`` (see ``airlock._frame.frame_methods``).");

static PyObject *
inline_frame(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    speedups_state *st = get_state(module);
    if (nargs != 8) {
        PyErr_SetString(PyExc_TypeError, "inline_frame() takes 8 arguments");
        return NULL;
    }
    PyObject *tick = args[0], *inbox = args[1], *claim = args[2];
    if (!PyObject_TypeCheck(tick, (PyTypeObject *)st->tick_type) || !PyList_CheckExact(claim)
        || SLOT(tick, st->buffer_at) == NULL
        || !Py_IS_TYPE(SLOT(tick, st->buffer_at), (PyTypeObject *)st->buffer_type)) {
        PyErr_SetString(PyExc_TypeError,
                        "inline_frame() needs a TickScope with its Buffer and its claim list");
        return NULL;
    }
    PyObject *enter = new_inline_frame(module, 0, tick, args[3]);
    if (enter == NULL) {
        return NULL;
    }
    PyObject *exit = new_inline_frame(module, 1, tick, args[4]);
    if (exit == NULL) {
        Py_DECREF(enter);
        return NULL;
    }
    InlineFrame *frames[2] = {(InlineFrame *)enter, (InlineFrame *)exit};
    for (int i = 0; i < 2; i++) {
        Py_INCREF(inbox);
        frames[i]->inbox = inbox;
        Py_INCREF(claim);
        frames[i]->claim = claim;
        frames[i]->failed = Py_NewRef(args[5]);
        frames[i]->rich_failed = Py_NewRef(args[6]);
        frames[i]->rich_held = Py_NewRef(args[7]);
    }
    return Py_BuildValue("(NN)", enter, exit);
}

/* ---------------------------------------------------------------------------------------
 * The per-intent stages of a flush (``_pipeline``): coalesce, order by phase, merge batches.
 *
 * Each is a stage of the pure pipeline with the same signature, ``(entries, ctx) ->
 * entries``, and the same result; it runs the common case here — a list of records only
 * (tuples: ``_record``), nothing watching — and hands every other call, arguments unchanged,
 * to its pure twin: ``_coalesce.coalesce``, ``_ordering.order``, ``_batch.merge_batches``.
 * Keep each in sync with its twin. The entries list is the flush's own (user code that runs
 * here, a key's hash or a task's ``airlock_phase``, cannot reach it; should it change, the
 * order stage reads the copy it took first, and the others raise or hand over to the pure
 * stage). Where ``order`` hands a call over after running user code (an unknown phase),
 * that code runs again in the pure stage: a phase that changes each time it is read may rank
 * otherwise than the pure stage alone would. An error in user code (a key's ``__hash__``/``__eq__``,
 * a task's ``airlock_phase``) that is an ``Exception`` is cleared and the pure stage runs
 * instead, so that the error it reports is the pure core's; any other exception (an
 * interrupt) propagates as it would from the pure stage.
 */

/* The pure stage ``pure`` on this call's arguments. */
static PyObject *
pure_stage(PyObject *pure, PyObject *const *args, Py_ssize_t nargs)
{
    return PyObject_Vectorcall(pure, args, (size_t)nargs, NULL);
}

/* After an error in user code: 1 when it was an ``Exception`` (now cleared: run the pure
   stage), 0 when it must propagate. */
static int
cleared_for_pure(void)
{
    if (PyErr_ExceptionMatches(PyExc_Exception)) {
        PyErr_Clear();
        return 1;
    }
    return 0;
}

/* ``getattr(obj, name, None)`` without building an AttributeError: a new reference (None
   when absent), or NULL with another exception set. */
static PyObject *
attr_or_none(PyObject *obj, PyObject *name)
{
    PyObject *value = NULL;
#if PY_VERSION_HEX >= 0x030D0000
    int found = PyObject_GetOptionalAttr(obj, name, &value);
#else
    int found = _PyObject_LookupAttr(obj, name, &value);
#endif
    if (found < 0) {
        return NULL;
    }
    if (found == 0) {
        Py_RETURN_NONE;
    }
    return value;
}

/* ``ctx.<name>`` is true: 1, 0, or -1 with an exception set (``at``: the slot of ``name``,
   read in place in an exact FlushContext). */
static int
ctx_flag(speedups_state *st, PyObject *ctx, PyObject *name, Py_ssize_t at)
{
    if (Py_IS_TYPE(ctx, (PyTypeObject *)st->ctx_type) && SLOT(ctx, at) != NULL
        && PyBool_Check(SLOT(ctx, at))) {
        return SLOT(ctx, at) == Py_True;
    }
    PyObject *value = PyObject_GetAttr(ctx, name);
    if (value == NULL) {
        return -1;
    }
    int flag = PyObject_IsTrue(value);
    Py_DECREF(value);
    return flag;
}

/* The FlushStats of an exact FlushContext ``ctx`` whose slots may be written in place
   (borrowed), else NULL (the attributes, by name). */
static inline PyObject *
stats_in_place(speedups_state *st, PyObject *ctx)
{
    if (!Py_IS_TYPE(ctx, (PyTypeObject *)st->ctx_type)) {
        return NULL;
    }
    PyObject *stats = SLOT(ctx, st->ctx_stats_at);
    return stats != NULL && Py_IS_TYPE(stats, (PyTypeObject *)st->stats_type) ? stats : NULL;
}

/* ``ctx.stats.<field> = value`` (``at``: the field's slot, written in place when it may be):
   0, or -1 with an exception set. */
static int
count_into_stats(PyObject *ctx, speedups_state *st, PyObject *field, Py_ssize_t at,
                 Py_ssize_t value)
{
    PyObject *in_place = stats_in_place(st, ctx);
    if (in_place != NULL) {
        return set_int_slot(in_place, at, value);
    }
    PyObject *stats = PyObject_GetAttr(ctx, st->str_stats);
    if (stats == NULL) {
        return -1;
    }
    PyObject *number = PyLong_FromSsize_t(value);
    int done = number == NULL ? -1 : PyObject_SetAttr(stats, field, number);
    Py_XDECREF(number);
    Py_DECREF(stats);
    return done;
}

/* ``entries`` is a list of entries in the two shapes of ``_record`` only — plain records
   (tuples of 3), full ones (tuples of 9, bare or exact Intents) —: 1, else 0. */
static int
all_records(speedups_state *st, PyObject *entries)
{
    Py_ssize_t n = PyList_GET_SIZE(entries);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *entry = PyList_GET_ITEM(entries, i);
        if (PyTuple_CheckExact(entry)) {
            if (PyTuple_GET_SIZE(entry) != PLAIN_SIZE && PyTuple_GET_SIZE(entry) != FULL_SIZE) {
                return 0;
            }
        }
        else if (!Py_IS_TYPE(entry, (PyTypeObject *)st->intent_type)
                 || PyTuple_GET_SIZE(entry) != FULL_SIZE) {
            return 0;
        }
    }
    return 1;
}

/* A stage's arguments are ``(entries, ctx)`` with ``entries`` a list of records only: 1,
   else 0 (the pure stage takes the call). */
static int
takes_records(speedups_state *st, PyObject *const *args, Py_ssize_t nargs)
{
    return nargs == 2 && PyList_CheckExact(args[0]) && all_records(st, args[0]);
}

/* The entries of ``entries`` whose ``drop[i]`` is 0, in order (a new list). */
static PyObject *
kept_entries(PyObject *entries, Py_ssize_t n, const char *drop, Py_ssize_t kept)
{
    PyObject *survivors = PyList_New(kept);
    if (survivors == NULL) {
        return NULL;
    }
    if (PyList_GET_SIZE(entries) != n) {  /* (a finalizer the allocation ran changed them) */
        Py_DECREF(survivors);
        PyErr_SetString(PyExc_RuntimeError,
                        "airlock: a flush's entries changed while a stage ran on them");
        return NULL;
    }
    Py_ssize_t at = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (!drop[i]) {
            PyObject *entry = PyList_GET_ITEM(entries, i);
            Py_INCREF(entry);
            PyList_SET_ITEM(survivors, at++, entry);
        }
    }
    return survivors;
}

/* A distinct key in ``coalesce``: its hash and the position of its last record so far. */
typedef struct {
    PyObject *key;     /* a strong reference (a key's ``__eq__`` is user code) */
    Py_hash_t hash;
    Py_ssize_t last;
} seen_key;

/* Index slots on the stack (a frame's keys, up to 128 of them); more are allocated. */
#define STACK_SLOTS 256

/* A copy of ``entries`` (``n`` records) for a stage to read while Python code runs, or NULL:
   with an exception set, or without one when they changed while the copy was allocated (a
   collection's finalizer: the pure stage then). The collector does not track it, so no
   Python code can find it (``gc.get_referrers``) and change it; ``PyObject_GC_Track`` it
   before it leaves the stage. */
static PyObject *
copy_of_records(speedups_state *st, PyObject *entries, Py_ssize_t n)
{
    PyObject *copy = snapshot_of(entries, 0);
    if (copy == NULL) {
        return NULL;
    }
    PyObject_GC_UnTrack(copy);
    if (PyList_GET_SIZE(copy) != n || !all_records(st, copy)) {
        Py_DECREF(copy);
        return NULL;
    }
    return copy;
}

/* Whether hashing ``key`` and comparing it with another such key runs no Python code: an
   exact str or int, or an exact tuple of them. */
static int
plain_key(PyObject *key)
{
    if (PyUnicode_CheckExact(key) || PyLong_CheckExact(key)) {
        return 1;
    }
    if (!PyTuple_CheckExact(key)) {
        return 0;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(key); i++) {
        PyObject *item = PyTuple_GET_ITEM(key, i);
        if (!PyUnicode_CheckExact(item) && !PyLong_CheckExact(item)) {
            return 0;
        }
    }
    return 1;
}

/* Coalesce: of the records sharing a ``_key`` only the last goes on; ``stats.coalesced``.
   The keys are found as a dict finds them (identity, then hash and ``==``) in a table of
   their own: open addressing over indices into ``seen`` (no dict, no int objects). */
static PyObject *
coalesce(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    speedups_state *st = get_state(module);
    if (!takes_records(st, args, nargs)) {
        return pure_stage(st->pure_coalesce, args, nargs);
    }
    PyObject *entries = args[0], *ctx = args[1];
    int in_place = Py_IS_TYPE(ctx, (PyTypeObject *)st->ctx_type)  /* (ctx_flag's own test) */
                   && SLOT(ctx, st->ctx_watching_at) != NULL
                   && PyBool_Check(SLOT(ctx, st->ctx_watching_at));
    int watching = ctx_flag(st, ctx, st->str_watching, st->ctx_watching_at);
    if (watching != 0) {  /* observers hear of each coalesced intent: the pure stage tells */
        return watching < 0 ? NULL : pure_stage(st->pure_coalesce, args, nargs);
    }
    if (!in_place && !all_records(st, entries)) {  /* (the read may have run Python code) */
        return pure_stage(st->pure_coalesce, args, nargs);
    }
    Py_ssize_t n = PyList_GET_SIZE(entries), dropped = 0, distinct = 0;
    size_t size = 16;  /* a power of 2, at least twice the records: a probe ends soon */
    while (size < 2 * (size_t)n) {
        size *= 2;
    }
    int32_t on_stack[STACK_SLOTS];  /* -1: a free slot; else an index into ``seen`` */
    int32_t *slots = size <= STACK_SLOTS ? on_stack : PyMem_Malloc(size * sizeof(int32_t));
    seen_key *seen = PyMem_Malloc((size_t)(n > 0 ? n : 1) * sizeof(seen_key));
    char *drop = PyMem_Calloc((size_t)(n > 0 ? n : 1), 1);
    PyObject *result = NULL;
    /* ``source``: the entries read. A key whose __hash__ or __eq__ is Python code may reach
       the list (through its caller's frame) and change it: from the first such key on, the
       stage reads a copy taken before that code ran (as ``sorted`` reads the pure stage's) */
    PyObject *source = entries;
    if (slots == NULL || seen == NULL || drop == NULL || n > INT32_MAX) {
        PyErr_NoMemory();
        goto done;
    }
    memset(slots, 0xff, size * sizeof(int32_t));
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *entry = PyList_GET_ITEM(source, i);
        if (PyTuple_GET_SIZE(entry) == PLAIN_SIZE) {
            continue;
        }
        PyObject *key = PyTuple_GET_ITEM(entry, KEY_AT);
        if (key == Py_None) {
            continue;
        }
        if (source == entries && !plain_key(key)) {  /* the stage starts again on a copy */
            if ((source = copy_of_records(st, entries, n)) == NULL) {
                source = entries;
                if (!PyErr_Occurred()) {  /* (changed while the copy was allocated) */
                    result = pure_stage(st->pure_coalesce, args, nargs);
                }
                goto done;
            }
            for (Py_ssize_t k = 0; k < distinct; k++) {
                Py_DECREF(seen[k].key);
            }
            distinct = dropped = 0;
            memset(slots, 0xff, size * sizeof(int32_t));
            memset(drop, 0, (size_t)n);
            i = -1;
            continue;
        }
        Py_hash_t hash = PyObject_Hash(key);
        if (hash == -1) {  /* the key's __hash__ raised */
            if (cleared_for_pure()) {
                result = pure_stage(st->pure_coalesce, args, nargs);
            }
            goto done;
        }
        size_t at = (size_t)hash & (size - 1);
        seen_key *found = NULL;
        for (; slots[at] >= 0; at = (at + 1) & (size - 1)) {  /* linear probing: the table
                                                                 is at most half full */
            seen_key *other = &seen[slots[at]];
            if (other->key == key) {
                found = other;
                break;
            }
            if (other->hash == hash) {
                int same = PyObject_RichCompareBool(other->key, key, Py_EQ);
                if (same < 0) {  /* the key's __eq__ raised */
                    if (cleared_for_pure()) {
                        result = pure_stage(st->pure_coalesce, args, nargs);
                    }
                    goto done;
                }
                if (same) {
                    found = other;
                    break;
                }
            }
        }
        if (found == NULL) {  /* first seen */
            slots[at] = (int32_t)distinct;
            found = &seen[distinct++];
            found->key = Py_NewRef(key);
            found->hash = hash;
        }
        else {  /* seen before: its earlier position is coalesced */
            drop[found->last] = 1;
            dropped++;
        }
        found->last = i;
    }
    if (dropped == 0) {
        if (source != entries) {  /* (the copy: untracked until now) */
            PyObject_GC_Track(source);
        }
        result = Py_NewRef(source);
    }
    else if ((result = kept_entries(source, n, drop, n - dropped)) != NULL
             && count_into_stats(ctx, st, st->str_coalesced, st->coalesced_at, dropped) < 0) {
        Py_CLEAR(result);
    }
done:
    if (source != entries) {
        Py_DECREF(source);
    }
    for (Py_ssize_t k = 0; k < distinct; k++) {
        Py_DECREF(seen[k].key);
    }
    if (slots != on_stack) {
        PyMem_Free(slots);
    }
    PyMem_Free(seen);
    PyMem_Free(drop);
    return result;
}

/* The phase of a record (``_record.phase_of``: its options' "phase", else its task's
   ``airlock_phase``): a new reference (None: no phase), or NULL with an exception set.
   ``cache`` holds the last task looked up and its phase (borrowed task, owned phase). */
static PyObject *
record_phase(speedups_state *st, PyObject *entry, PyObject **cached_task,
             PyObject **cached_phase)
{
    PyObject *task = PyTuple_GET_ITEM(entry, 0);
    if (PyTuple_GET_SIZE(entry) == FULL_SIZE) {
        PyObject *options = PyTuple_GET_ITEM(entry, DISPATCH_OPTIONS_AT);
        if (options != Py_None) {
            if (!PyDict_CheckExact(options)) {  /* a mapping of the user's: the pure stage */
                PyErr_SetString(PyExc_TypeError, "not a dict");
                return NULL;
            }
            PyObject *name = PyDict_GetItemWithError(options, st->str_phase);
            if (name != NULL && name != Py_None) {
                return Py_NewRef(name);
            }
            if (PyErr_Occurred()) {
                return NULL;
            }
        }
    }
    if (task != *cached_task) {
        PyObject *name = attr_or_none(task, st->str_airlock_phase);
        if (name == NULL) {
            return NULL;
        }
        Py_XSETREF(*cached_phase, name);
        *cached_task = task;
    }
    return Py_NewRef(*cached_phase);
}

/* The distinct tasks ``order`` remembers the rank of (and the distinct options dicts). */
#define RANKED_TASKS 8

/* Every key of ``dict`` (an exact dict) is an exact str: looking a str up in it runs no
   Python code. */
static int
str_keys_only(PyObject *dict)
{
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(dict, &pos, &key, &value)) {
        if (!PyUnicode_CheckExact(key)) {
            return 0;
        }
    }
    return 1;
}

/* Reading ``task.airlock_phase`` runs no Python code: a builtin, a Batch, or a function,
   a method of a function or a ``functools.partial`` whose own attributes have str keys only
   (their types are the interpreter's, whose attributes are str). 1 or 0. */
static int
reads_phase_plainly(speedups_state *st, PyObject *task)
{
    if (PyCFunction_Check(task) || Py_IS_TYPE(task, (PyTypeObject *)st->batch_type)) {
        return 1;
    }
    if (PyMethod_Check(task)) {
        task = PyMethod_GET_FUNCTION(task);
    }
    PyObject *attributes;
    if (PyFunction_Check(task)) {
        attributes = ((PyFunctionObject *)task)->func_dict;
    }
    else if (Py_IS_TYPE(task, (PyTypeObject *)st->partial_type)) {
        PyObject **where = _PyObject_GetDictPtr(task);
        attributes = where == NULL ? NULL : *where;
    }
    else {
        return 0;
    }
    return attributes == NULL || (PyDict_CheckExact(attributes) && str_keys_only(attributes));
}

/* Order by phase (``by_phase``): a stable counting sort by each record's phase rank. */
static PyObject *
order(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    speedups_state *st = get_state(module);
    if (!takes_records(st, args, nargs)) {
        return pure_stage(st->pure_order, args, nargs);
    }
    PyObject *entries = args[0], *ctx = args[1];
    PyObject *order_by = Py_IS_TYPE(ctx, (PyTypeObject *)st->ctx_type)
                         && SLOT(ctx, st->ctx_order_by_at) != NULL
                         ? Py_NewRef(SLOT(ctx, st->ctx_order_by_at))  /* (in place) */
                         : PyObject_GetAttr(ctx, st->str_order_by);
    if (order_by == NULL) {
        return NULL;
    }
    PyObject *ranks = attr_or_none(order_by, st->str_phase_ranks);
    Py_DECREF(order_by);
    if (ranks == NULL) {
        return cleared_for_pure() ? pure_stage(st->pure_order, args, nargs) : NULL;
    }
    if (!all_records(st, entries)) {  /* (the lookups may have run Python code) */
        Py_DECREF(ranks);
        return pure_stage(st->pure_order, args, nargs);
    }
    PyObject *rank = NULL, *result = NULL, *cached_phase = NULL, *cached_task = NULL;
    PyObject *copy = NULL, *list = entries;  /* (read from the copy once there is one) */
    Py_ssize_t no_phase = -1, n = PyList_GET_SIZE(entries);
    Py_ssize_t *at = NULL, *starts = NULL;
    if (!PyTuple_CheckExact(ranks) || PyTuple_GET_SIZE(ranks) != 2
        || !PyDict_CheckExact(PyTuple_GET_ITEM(ranks, 0))
        || !PyLong_CheckExact(PyTuple_GET_ITEM(ranks, 1))) {  /* another order_by */
        result = pure_stage(st->pure_order, args, nargs);
        goto done;
    }
    rank = PyTuple_GET_ITEM(ranks, 0);
    Py_ssize_t buckets = PyDict_GET_SIZE(rank) + 1;  /* the phases' ranks, and no phase */
    no_phase = PyLong_AsSsize_t(PyTuple_GET_ITEM(ranks, 1));
    if (no_phase == -1 && PyErr_Occurred()) {  /* (past a C integer: the pure stage) */
        goto user_error;
    }
    at = PyMem_Malloc((size_t)(n > 0 ? n : 1) * sizeof(Py_ssize_t));
    starts = PyMem_Calloc((size_t)buckets + 1, sizeof(Py_ssize_t));
    if (at == NULL || starts == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    /* Ranks remembered by identity within this call: the last tasks ranked by their own
       ``airlock_phase`` (a function, method, builtin or Batch: reading it runs no Python
       code), and the last options dicts ranked by their own "phase" (str keys only, a str
       phase). They hold while no Python code runs. A lookup that may run some (a task of
       another kind, a dict with other keys, a phase that is not a str, ranks with other keys)
       first takes a copy of the entries, as the pure stage's ``sorted`` reads them (the ranks
       and the result then come from the copy), and afterwards forgets every rank remembered
       (``str_ranks`` -1: whether the ranks' keys are all str is not known yet). */
    PyObject *ranked_tasks[RANKED_TASKS], *ranked_options[RANKED_TASKS];
    Py_ssize_t ranked_as[RANKED_TASKS], options_as[RANKED_TASKS];
    int known = 0, replaced = 0, known_options = 0, replaced_options = 0, str_ranks = -1;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *entry = PyList_GET_ITEM(list, i);
        PyObject *task = PyTuple_GET_ITEM(entry, 0);
        PyObject *options = PyTuple_GET_SIZE(entry) == PLAIN_SIZE
                            ? Py_None : PyTuple_GET_ITEM(entry, DISPATCH_OPTIONS_AT);
        int by_task = options == Py_None;
        int k = 0;
        while (by_task && k < known && ranked_tasks[k] != task) {
            k++;
        }
        if (by_task && k < known) {
            at[i] = ranked_as[k];
            starts[ranked_as[k] + 1]++;
            continue;
        }
        while (!by_task && k < known_options && ranked_options[k] != options) {
            k++;
        }
        if (!by_task && k < known_options) {
            at[i] = options_as[k];
            starts[options_as[k] + 1]++;
            continue;
        }
        PyObject *name = NULL;
        int own_phase = 0;  /* the options' own phase, read with no Python code run */
        int str_options = !by_task && PyDict_CheckExact(options) && str_keys_only(options);
        if (str_options) {
            PyObject *found = PyDict_GetItemWithError(options, st->str_phase);
            if (found != NULL && PyUnicode_CheckExact(found)) {
                name = Py_NewRef(found);
                own_phase = 1;
            }
        }
        int may_run = !own_phase
                      && ((!by_task && !str_options)
                          || (task != cached_task && !reads_phase_plainly(st, task)));
        if (name == NULL) {
            if (may_run && copy == NULL) {
                if ((copy = copy_of_records(st, entries, n)) == NULL) {
                    if (!PyErr_Occurred()) {  /* (a finalizer of the allocation's) */
                        result = pure_stage(st->pure_order, args, nargs);
                    }
                    goto done;
                }
                list = copy;
            }
            if (!by_task && !str_options) {  /* its lookup may run Python code first */
                cached_task = NULL;
                Py_CLEAR(cached_phase);
            }
            name = record_phase(st, entry, &cached_task, &cached_phase);
            if (name == NULL) {
                goto user_error;
            }
        }
        if (name != Py_None) {  /* the rank's lookup runs Python code unless both are str */
            if (str_ranks < 0 && PyUnicode_CheckExact(name)) {
                str_ranks = str_keys_only(rank);
            }
            if (!PyUnicode_CheckExact(name) || !str_ranks) {
                may_run = 1;
                if (copy == NULL) {
                    if ((copy = copy_of_records(st, entries, n)) == NULL) {
                        Py_DECREF(name);
                        if (!PyErr_Occurred()) {  /* (a finalizer of the allocation's) */
                            result = pure_stage(st->pure_order, args, nargs);
                        }
                        goto done;
                    }
                    list = copy;
                }
            }
        }
        Py_ssize_t r = no_phase;
        if (name != Py_None) {
            PyObject *found = PyDict_GetItemWithError(rank, name);
            r = found != NULL && PyLong_CheckExact(found) ? PyLong_AsSsize_t(found) : -1;
        }
        Py_DECREF(name);
        if (r < 0 || r >= buckets) {  /* an unknown phase (the pure stage says which) */
            if (PyErr_Occurred()) {
                goto user_error;
            }
            result = pure_stage(st->pure_order, args, nargs);
            goto done;
        }
        if (may_run) {  /* Python code may have run: every rank remembered is forgotten */
            known = known_options = 0;
            str_ranks = -1;
            cached_task = NULL;
            Py_CLEAR(cached_phase);
        }
        else if (by_task) {
            k = known < RANKED_TASKS ? known++ : replaced++ % RANKED_TASKS;
            ranked_tasks[k] = task;
            ranked_as[k] = r;
        }
        else if (own_phase) {
            k = known_options < RANKED_TASKS ? known_options++
                                             : replaced_options++ % RANKED_TASKS;
            ranked_options[k] = options;
            options_as[k] = r;
        }
        at[i] = r;
        starts[r + 1]++;
    }
    for (Py_ssize_t b = 1; b <= buckets; b++) {
        starts[b] += starts[b - 1];
    }
    if ((result = PyList_New(n)) == NULL) {
        goto done;
    }
    if (PyList_GET_SIZE(list) != n) {  /* (a finalizer the allocation ran changed them) */
        Py_SETREF(result, pure_stage(st->pure_order, args, nargs));
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *entry = PyList_GET_ITEM(list, i);
        Py_INCREF(entry);
        PyList_SET_ITEM(result, starts[at[i]]++, entry);
    }
    goto done;
user_error:
    if (cleared_for_pure()) {
        result = pure_stage(st->pure_order, args, nargs);
    }
done:
    Py_XDECREF(copy);
    Py_XDECREF(cached_phase);
    Py_DECREF(ranks);
    PyMem_Free(at);
    PyMem_Free(starts);
    return result;
}

/* The one call of a batch with every payload, under its last record's options (as
   ``_batch._merged_call`` builds it for a record): a new reference, or NULL. */
static PyObject *
merged_record(speedups_state *st, PyObject *batch, PyObject *payloads, PyObject *last)
{
    PyObject *handler = PyObject_GetAttr(batch, st->str_handler);
    PyObject *name = handler == NULL ? NULL : PyObject_GetAttr(batch, st->str_dunder_name);
    PyObject *call_args = name == NULL ? NULL : PyTuple_Pack(1, payloads);
    PyObject *kwargs = call_args == NULL ? NULL : PyDict_New();
    PyObject *record = NULL;
    if (kwargs != NULL) {
        record = PyTuple_Pack(
            FULL_SIZE, handler, call_args, kwargs, name,
            PyTuple_GET_ITEM(last, DISPATCH_OPTIONS_AT), PyTuple_GET_ITEM(last, ORIGIN_AT),
            Py_None, st->empty_tuple, PyTuple_GET_ITEM(last, SCOPE_AT));
    }
    Py_XDECREF(handler);
    Py_XDECREF(name);
    Py_XDECREF(call_args);
    Py_XDECREF(kwargs);
    return record;
}

/* The distinct batches a frame's records may hold for ``merge_batches`` to fold them here
   (a frame with more goes to the pure stage). */
#define MAX_BATCHES 8

/* Merge batches: each batch's records fold into one call at its last one's position. The
   batches are told apart by identity in a small array, each record's batch remembered. */
static PyObject *
merge_batches(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    speedups_state *st = get_state(module);
    if (!takes_records(st, args, nargs)) {
        return pure_stage(st->pure_merge_batches, args, nargs);
    }
    PyObject *entries = args[0], *ctx = args[1];
    PyObject *batches[MAX_BATCHES], *payloads[MAX_BATCHES] = {NULL};
    Py_ssize_t last_at[MAX_BATCHES], found = 0, folded = 0;
    Py_ssize_t n = PyList_GET_SIZE(entries);
    signed char *batch_of = PyMem_Malloc((size_t)(n > 0 ? n : 1));  /* -1: not a batch's */
    PyObject *merged = NULL, *result = NULL;
    if (batch_of == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *entry = PyList_GET_ITEM(entries, i);
        PyObject *task = PyTuple_GET_ITEM(entry, 0);
        batch_of[i] = -1;
        if (!Py_IS_TYPE(task, (PyTypeObject *)st->batch_type)) {
            continue;
        }
        PyObject *task_args = PyTuple_GET_ITEM(entry, 1);
        Py_ssize_t b = 0;
        while (b < found && batches[b] != task) {
            b++;
        }
        /* an Intent's merged call is an Intent: the pure stage builds it */
        if (!PyTuple_CheckExact(entry) || PyTuple_GET_SIZE(entry) != FULL_SIZE
            || !PyTuple_CheckExact(task_args) || b == MAX_BATCHES) {
            result = pure_stage(st->pure_merge_batches, args, nargs);
            goto done;
        }
        if (b == found) {
            if ((payloads[b] = PyList_New(0)) == NULL) {
                goto done;
            }
            batches[b] = task;
            found++;
        }
        PyObject *payload = PyTuple_GET_SIZE(task_args) == 1
                                ? PyTuple_GET_ITEM(task_args, 0) : task_args;
        if (PyList_Append(payloads[b], payload) < 0) {
            goto done;
        }
        last_at[b] = i;
        batch_of[i] = (signed char)b;
        folded++;
    }
    if (found == 0) {
        result = Py_NewRef(entries);
        goto done;
    }
    if ((merged = PyList_New(n - folded + found)) == NULL) {
        goto done;
    }
    Py_ssize_t at = 0, size = PyList_GET_SIZE(merged);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *entry = PyList_GET_ITEM(entries, i);
        int b = batch_of[i];
        /* as the pure stage: a batch's call goes where its last record is (found by
           identity: a record that is twice in the list goes twice, so to the pure stage) */
        if (b >= 0 && entry != PyList_GET_ITEM(entries, last_at[b])) {
            continue;
        }
        if (at == size) {
            Py_CLEAR(merged);
            result = pure_stage(st->pure_merge_batches, args, nargs);
            goto done;
        }
        PyObject *kept = b < 0 ? Py_NewRef(entry)
                               : merged_record(st, batches[b], payloads[b], entry);
        if (kept == NULL) {
            goto done;
        }
        PyList_SET_ITEM(merged, at++, kept);
    }
    if (at != size) {  /* (cannot happen: every record was counted above) */
        Py_CLEAR(merged);
        result = pure_stage(st->pure_merge_batches, args, nargs);
        goto done;
    }
    if (count_into_stats(ctx, st, st->str_batched, st->batched_at, n - at) == 0) {
        result = Py_NewRef(merged);
    }
done:
    for (Py_ssize_t b = 0; b < found; b++) {
        Py_XDECREF(payloads[b]);
    }
    PyMem_Free(batch_of);
    Py_XDECREF(merged);
    return result;
}

/* ``ctx.stats.dispatched += count``: 0, or -1 with an exception set. */
static int
add_dispatched(PyObject *ctx, speedups_state *st, Py_ssize_t count)
{
    PyObject *in_place = stats_in_place(st, ctx);
    PyObject *current = in_place == NULL ? NULL : SLOT(in_place, st->dispatched_at);
    if (current != NULL && PyLong_CheckExact(current)) {
        Py_ssize_t dispatched = PyLong_AsSsize_t(current);
        if (dispatched >= 0 && count >= 0 && dispatched <= PY_SSIZE_T_MAX - count) {
            return set_int_slot(in_place, st->dispatched_at, dispatched + count);
        }
        PyErr_Clear();  /* (past a C integer: Python's addition) */
    }
    PyObject *stats = PyObject_GetAttr(ctx, st->str_stats);
    if (stats == NULL) {
        return -1;
    }
    PyObject *before = PyObject_GetAttr(stats, st->str_dispatched);
    PyObject *number = before == NULL ? NULL : PyLong_FromSsize_t(count);
    PyObject *after = number == NULL ? NULL : PyNumber_Add(before, number);
    int done = after == NULL ? -1 : PyObject_SetAttr(stats, st->str_dispatched, after);
    Py_XDECREF(before);
    Py_XDECREF(number);
    Py_XDECREF(after);
    Py_DECREF(stats);
    return done;
}

/* ``entry[0](*entry[1], **entry[2])``, as the pure loop calls an entry (a record or an
   Intent; one appended during the loop may be anything): the call's result, or NULL with an
   exception set. */
static PyObject *
call_entry(speedups_state *st, PyObject *entry)
{
    if (PyTuple_Check(entry) && PyTuple_GET_SIZE(entry) >= PLAIN_SIZE) {
        PyObject *task_args = PyTuple_GET_ITEM(entry, 1);
        PyObject *kwargs = PyTuple_GET_ITEM(entry, 2);
        if (PyTuple_CheckExact(task_args) && PyDict_CheckExact(kwargs)) {  /* always, here */
            return call_plain_record(st, entry);  /* (its first three items: a plain record's) */
        }
    }
    PyObject *task = PySequence_GetItem(entry, 0);
    PyObject *task_args = task == NULL ? NULL : PySequence_GetItem(entry, 1);
    PyObject *kwargs = task_args == NULL ? NULL : PySequence_GetItem(entry, 2);
    PyObject *tuple = kwargs == NULL ? NULL : PySequence_Tuple(task_args);
    PyObject *dict = tuple == NULL ? NULL : PyDict_New();
    PyObject *result = NULL;
    if (dict != NULL && PyDict_Merge(dict, kwargs, 1) == 0) {  /* as ``f(*a, **k)`` */
        result = checked_result(st, task, PyObject_Call(task, tuple, dict));
    }
    Py_XDECREF(task);
    Py_XDECREF(task_args);
    Py_XDECREF(kwargs);
    Py_XDECREF(tuple);
    Py_XDECREF(dict);
    return result;
}

/* ``ctx`` asks for the direct variant of the dispatch loop: the default executor, nobody
   watching. 1, 0, or -1 with an exception set. */
static int
dispatches_directly(speedups_state *st, PyObject *ctx)
{
    if (Py_IS_TYPE(ctx, (PyTypeObject *)st->ctx_type)) {  /* its slots, read in place */
        return SLOT(ctx, st->ctx_watching_at) == Py_False
               && SLOT(ctx, st->ctx_executor_at) == st->sync_executor;
    }
    int watching = ctx_flag(st, ctx, st->str_watching, st->ctx_watching_at);
    if (watching != 0) {
        return watching < 0 ? -1 : 0;
    }
    PyObject *executor = PyObject_GetAttr(ctx, st->str_executor);
    if (executor == NULL) {
        return -1;
    }
    int direct = executor == st->sync_executor;
    Py_DECREF(executor);
    return direct;
}

/* The ObserverSet that watches a flush of ``entries`` in ``ctx`` (a borrowed reference),
   when the watched variant of the loop may run in C: the default executor, ``ctx.tell`` an
   ``ObserverSet.tell``, every entry an exact Intent (a watched flush names them first). NULL
   (no exception) otherwise: the pure loop. */
static PyObject *
watched_by(speedups_state *st, PyObject *entries, PyObject *ctx)
{
    if (!Py_IS_TYPE(ctx, (PyTypeObject *)st->ctx_type)
        || SLOT(ctx, st->ctx_watching_at) != Py_True
        || SLOT(ctx, st->ctx_executor_at) != st->sync_executor) {
        return NULL;
    }
    PyObject *tell = SLOT(ctx, st->ctx_tell_at);
    if (tell == NULL || !PyMethod_Check(tell)
        || PyMethod_GET_FUNCTION(tell) != st->observer_set_tell
        || !Py_IS_TYPE(PyMethod_GET_SELF(tell), (PyTypeObject *)st->observer_set_type)) {
        return NULL;
    }
    PyObject *observing = PyMethod_GET_SELF(tell);
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(entries); i++) {
        if (!Py_IS_TYPE(PyList_GET_ITEM(entries, i), (PyTypeObject *)st->intent_type)) {
            return NULL;
        }
    }
    return observing;
}

/* ``_dispatch.dispatch`` in C for its direct variant (the default executor, nobody
   watching: each record called as it is) and for its watched one under the default executor
   (``watched_by``: each Intent called, then the observers told ``dispatched``); a failure
   goes to ``_dispatch.fail_or_stop``, as in the pure loop. Any other context or entry: the
   pure loop. */
static PyObject *call_each_loop(speedups_state *st, PyObject *entries, PyObject *ctx,
                                PyObject *observing);

static PyObject *
call_each(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    speedups_state *st = get_state(module);
    if (!takes_records(st, args, nargs)) {
        return pure_stage(st->pure_dispatch, args, nargs);
    }
    int direct = dispatches_directly(st, args[1]);
    PyObject *observing = NULL;  /* a watched flush's ObserverSet: each entry is told */
    if (direct == 0) {
        observing = watched_by(st, args[0], args[1]);
    }
    if (direct < 0 || (direct == 0 && observing == NULL)) {
        return direct < 0 ? NULL : pure_stage(st->pure_dispatch, args, nargs);
    }
    if (!Py_IS_TYPE(args[1], (PyTypeObject *)st->ctx_type)  /* (an exact one's slots are read
                                                              in place: no Python code ran) */
        && !all_records(st, args[0])) {  /* (the lookups may have run Python code) */
        return pure_stage(st->pure_dispatch, args, nargs);
    }
    Py_XINCREF(observing);  /* (held: a task may change the context's tell meanwhile) */
    PyObject *done = call_each_loop(st, args[0], args[1], observing);
    Py_XDECREF(observing);
    return done;
}

/* ``fail_or_stop(entry, exc, rest, ctx)`` as the pure loop calls it: in its ``except``
   block, ``exc`` being handled (``sys.exc_info()`` in a ``failed`` hook, ``logger.exception``),
   the handled exception as it was afterwards. A new reference, or NULL with an error set. */
static PyObject *
fail_or_stop_handling(speedups_state *st, PyObject *entry, PyObject *exc, PyObject *rest,
                      PyObject *ctx)
{
    PyObject *type, *value, *traceback;
    PyErr_GetExcInfo(&type, &value, &traceback);
    PyErr_SetExcInfo(Py_NewRef((PyObject *)Py_TYPE(exc)), Py_NewRef(exc),
                     PyException_GetTraceback(exc));
    PyObject *left = PyObject_CallFunctionObjArgs(st->fail_or_stop, entry, exc, rest, ctx, NULL);
    PyErr_SetExcInfo(type, value, traceback);  /* (steals the three) */
    return left;
}

/* ``call_each``'s loop over ``entries`` in ``ctx`` (``observing``: the watched variant's
   ObserverSet, else NULL). */
static PyObject *
call_each_loop(speedups_state *st, PyObject *entries, PyObject *ctx, PyObject *observing)
{
    Py_ssize_t taken = PyList_GET_SIZE(entries), failed = 0;
    PyObject *raised = NULL;  /* the exception that stops the loop */
    /* as the pure loop's iterator: the list's length is read again at each step */
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(entries); i++) {
        PyObject *entry = PyList_GET_ITEM(entries, i);
        Py_INCREF(entry);
        PyObject *result = call_entry(st, entry);
        if (result != NULL) {
            Py_DECREF(result);
            if (observing != NULL
                && tell_observers(st, observing, st->str_dispatched, entry) < 0) {
                result = NULL;  /* hook_failed raised: as a failure of the entry, in Python */
            }
            else {
                Py_DECREF(entry);
                continue;
            }
        }
        failed++;
        PyObject *exc = take_exception();
        PyObject *rest = snapshot_of(entries, i + 1);
        PyObject *left = rest == NULL ? NULL : fail_or_stop_handling(st, entry, exc, rest, ctx);
        Py_DECREF(entry);
        Py_XDECREF(rest);
        if (left == NULL) {  /* the failure's bookkeeping raised: that error, in exc's context;
                                the rest never ran */
            taken -= PyList_GET_SIZE(entries) - (i + 1);
            PyObject *error = take_exception();
            if (error != exc) {
                PyException_SetContext(error, Py_NewRef(exc));
            }
            Py_DECREF(exc);
            raised = error;
            break;
        }
        Py_ssize_t stop = PyLong_AsSsize_t(left);
        Py_DECREF(left);
        if (stop >= 0) {
            taken -= stop;
            raised = exc;
            break;
        }
        if (PyErr_Occurred()) {  /* not an int */
            Py_DECREF(exc);
            raised = take_exception();
            break;
        }
        Py_DECREF(exc);  /* counted and told: the loop goes on */
    }
    if (raised != NULL) {  /* as the pure loop's ``finally``, then the error */
        if (add_dispatched(ctx, st, taken - failed) < 0) {
            PyObject *error = take_exception();
            PyException_SetContext(error, raised);
            raise_exception(error);
            return NULL;
        }
        raise_exception(raised);
        return NULL;
    }
    if (add_dispatched(ctx, st, taken - failed) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

PyDoc_STRVAR(call_each_doc,
"call_each(entries, ctx)\n--\n\n"
"The dispatch loop (the direct variant of ``airlock._dispatch.dispatch``) for records.");

PyDoc_STRVAR(coalesce_doc,
"coalesce(entries, ctx)\n--\n\n"
"The coalesce stage (``airlock._coalesce.coalesce``) for records when nothing watches.");
PyDoc_STRVAR(order_doc,
"order(entries, ctx)\n--\n\n"
"The order stage (``airlock._ordering.order``) for records under ``by_phase``.");
PyDoc_STRVAR(merge_batches_doc,
"merge_batches(entries, ctx)\n--\n\n"
"The batch stage (``airlock._batch.merge_batches``) for records.");

/* -- a fresh scope ------------------------------------------------------------------------

   ``airlock.scope()`` with no argument and nothing configured for it (``scope_cls``,
   ``scope_kwargs``): the new ``Scope`` is built here as ``Scope.__init__``'s common branch
   and ``Buffer.__init__`` build it, the same slots set to the same values and the others left
   unset. Every other call goes to the pure ``airlock._enqueue.scope``. Keep in sync with
   those three. */

static int judged_once(speedups_state *st, PyObject *answers, last_answer *last,
                       PyObject **judge, const char *module, const char *name,
                       PyTypeObject *type);

/* Whether ``airlock.scope(_cls=cls)`` builds what ``Scope()`` builds, as a ``cls``: None, or a
   subclass of Scope (its metaclass ``type``) that keeps Scope's ``__new__``, ``__init__`` and
   paths (``_plain_paths``) and hides none of the slots ``Scope.__init__`` writes
   (``_kernel.builds_like_scope``); the slots the subclass adds are left unset, as
   ``Scope.__init__`` leaves them. 1, 0, or -1 with an exception set. */
static int
builds_like_scope(speedups_state *st, PyObject *cls)
{
    if (cls == Py_None) {
        return 1;
    }
    PyTypeObject *scope_type = (PyTypeObject *)st->scope_type;
    if (!PyType_Check(cls) || Py_TYPE(cls) != &PyType_Type
        || !PyType_IsSubtype((PyTypeObject *)cls, scope_type)
        || ((PyTypeObject *)cls)->tp_new != scope_type->tp_new) {
        return 0;
    }
    PyObject *init = PyObject_GetAttr(cls, st->str_init);
    PyObject *paths = init == NULL ? NULL : PyObject_GetAttr(cls, st->str_plain_paths);
    int same = paths != NULL && init == st->scope_init && paths == Py_True;
    Py_XDECREF(init);
    Py_XDECREF(paths);
    if (paths == NULL) {
        PyErr_Clear();  /* (the pure call says what is wrong) */
    }
    if (!same) {
        return 0;
    }
    /* the slots Scope.__init__ writes, none hidden by the class (asked once per class) */
    return judged_once(st, st->built_types, &st->built_last, &st->builds_like_scope,
                       "airlock._kernel", "builds_like_scope", (PyTypeObject *)cls);
}

static PyObject *fresh_scope_of(speedups_state *st, PyTypeObject *scope_type, PyObject *policy,
                                PyObject *executor, PyObject *plan);

static PyObject *
fresh_scope(PyObject *module, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    speedups_state *st = get_state(module);
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    PyTypeObject *scope_type = (PyTypeObject *)st->scope_type;
    if (nargs != 0 || (kwnames != NULL && PyTuple_GET_SIZE(kwnames) != 0)) {
        /* ``_cls=`` alone, a class that builds as Scope does: that class, else pure */
        int own = nargs == 0 && PyTuple_GET_SIZE(kwnames) == 1
                  && PyUnicode_Check(PyTuple_GET_ITEM(kwnames, 0))
                  && PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, 0), "_cls") == 0
                  ? builds_like_scope(st, args[0]) : 0;
        if (own <= 0) {
            return own < 0 ? NULL : PyObject_Vectorcall(st->pure_scope, args, nargsf, kwnames);
        }
        if (args[0] != Py_None) {
            scope_type = (PyTypeObject *)args[0];
        }
    }
    PyObject *defaults = st->defaults;
    PyObject *cls = SLOT(defaults, st->defaults_scope_cls_at);
    PyObject *kwargs = SLOT(defaults, st->defaults_scope_kwargs_at);
    PyObject *policy = SLOT(defaults, st->defaults_policy_at);
    PyObject *executor = SLOT(defaults, st->defaults_executor_at);
    PyObject *plan = SLOT(defaults, st->defaults_plan_at);
    if (cls != Py_None || kwargs == NULL || !PyDict_CheckExact(kwargs)
        || PyDict_GET_SIZE(kwargs) != 0 || policy == NULL || executor == NULL
        || plan == NULL) {
        return PyObject_Vectorcall(st->pure_scope, args, nargsf, kwnames);
    }
    /* held across the two allocations below: either may collect, and a finalizer (or a
       thread it lets run) may configure() new defaults, freeing these */
    Py_INCREF(policy);
    Py_INCREF(executor);
    Py_INCREF(plan);
    PyObject *scope = fresh_scope_of(st, scope_type, policy, executor, plan);
    Py_DECREF(policy);
    Py_DECREF(executor);
    Py_DECREF(plan);
    return scope;
}

/* A new scope of ``scope_type`` with the defaults ``policy``, ``executor`` and ``plan`` (held
   by the caller): Scope.__init__ and Buffer.__init__, in their order. */
static PyObject *
fresh_scope_of(speedups_state *st, PyTypeObject *scope_type, PyObject *policy,
               PyObject *executor, PyObject *plan)
{
    PyTypeObject *buffer_type = (PyTypeObject *)st->buffer_type;
    PyObject *buffer = buffer_type->tp_alloc(buffer_type, 0);
    if (buffer == NULL) {
        return NULL;
    }
    /* Buffer.__init__: empty, every flag off */
    set_slot(buffer, st->rich_at, Py_False);
    set_slot(buffer, st->keyed_at, Py_False);
    set_slot(buffer, st->batching_at, Py_False);
    set_slot(buffer, st->holding_at, Py_False);
    set_slot(buffer, st->filtering_at, Py_False);
    set_slot(buffer, st->origins_at, Py_None);
    PyObject *scope = set_int_slot(buffer, st->removed_at, 0) < 0
        ? NULL : scope_type->tp_alloc(scope_type, 0);
    if (scope == NULL) {
        Py_DECREF(buffer);
        return NULL;
    }
    /* Scope.__init__, in its order: the common library-code scope */
    set_slot(scope, st->stats_at, Py_None);
    set_slot(scope, st->plain_count_at, Py_None);
    set_slot(scope, st->plain_ns_at, st->zero);
    set_slot(scope, st->plain_captured_at, Py_False);
    set_slot(scope, st->timed_at, Py_True);
    set_slot(scope, st->buffer_at, buffer);
    Py_DECREF(buffer);
    set_slot(scope, st->state_at, st->state_new);
    set_slot(scope, st->parent_at, Py_None);
    set_slot(scope, st->token_at, Py_None);
    set_slot(scope, st->ambient_at, st->empty_tuple);
    set_slot(scope, st->accepting_at, Py_False);
    set_slot(scope, st->policy_at, policy);
    set_slot(scope, st->executor_at, executor);
    set_slot(scope, st->order_by_at, Py_None);
    set_slot(scope, st->errors_at, st->str_raise);
    set_slot(scope, st->observers_at, st->empty_tuple);
    set_slot(scope, st->plan_at, plan);
    return scope;
}

/* The fresh scope's references and slot offsets: 0, or -1 with an exception set. */
static int
fresh_scope_exec(speedups_state *st)
{
    PyObject *scope_type = st->scope_type;
    if ((st->pure_scope = import_attr("airlock._enqueue", "scope")) == NULL
        || (st->defaults = import_attr("airlock._config", "defaults")) == NULL
        || (st->state_new = import_attr("airlock._states", "NEW")) == NULL
        || (st->zero = PyLong_FromLong(0)) == NULL
        || (st->str_raise = PyUnicode_InternFromString("raise")) == NULL
        || (st->str_init = PyUnicode_InternFromString("__init__")) == NULL
        || (st->str_plain_paths = PyUnicode_InternFromString("_plain_paths")) == NULL
        || (st->scope_init = PyObject_GetAttr(st->scope_type, st->str_init)) == NULL) {
        return -1;
    }
    PyObject *defaults_type = (PyObject *)Py_TYPE(st->defaults);
    if ((st->stats_at = slot_offset(scope_type, scope_type, "_stats")) < 0
        || (st->parent_at = slot_offset(scope_type, scope_type, "_parent")) < 0
        || (st->ambient_at = slot_offset(scope_type, scope_type, "_ambient_policies")) < 0
        || (st->policy_at = slot_offset(scope_type, scope_type, "_policy")) < 0
        || (st->executor_at = slot_offset(scope_type, scope_type, "_executor")) < 0
        || (st->order_by_at = slot_offset(scope_type, scope_type, "order_by")) < 0
        || (st->errors_at = slot_offset(scope_type, scope_type, "errors")) < 0
        || (st->observers_at = slot_offset(scope_type, scope_type, "observers")) < 0
        || (st->holding_at = slot_offset(st->buffer_type, st->buffer_type, "holding")) < 0
        || (st->defaults_scope_cls_at = slot_offset(defaults_type, defaults_type,
                                                    "scope_cls")) < 0
        || (st->defaults_scope_kwargs_at = slot_offset(defaults_type, defaults_type,
                                                       "scope_kwargs")) < 0
        || (st->defaults_policy_at = slot_offset(defaults_type, defaults_type, "policy")) < 0
        || (st->defaults_executor_at = slot_offset(defaults_type, defaults_type,
                                                   "executor")) < 0
        || (st->defaults_plan_at = slot_offset(defaults_type, defaults_type, "plan")) < 0) {
        return -1;
    }
    return 0;
}

PyDoc_STRVAR(fresh_scope_doc,
"scope($module, policy=None, *, executor=None, _cls=None, **scope_kwargs)\n"
"--\n"
"\n"
"Create a scope (use it as ``with airlock.scope(...) as s:``).\n"
"\n"
"``_cls`` picks the Scope class (default: ``airlock.configure(scope_cls=...)`` or ``Scope``),\n"
"built with keyword arguments only: ``policy``, ``executor`` and the others given here,\n"
"after ``configure(scope_kwargs=...)``'s (the ones given here win).\n"
"\n"
"(The compiled kernel builds the common ``airlock.scope()`` itself; every other call is\n"
"``airlock._enqueue.scope``'s.)");

/* -- a scope's ``with`` -------------------------------------------------------------------

   ``Scope.__enter__`` and ``Scope.__exit__`` of an exact ``Scope`` in the common case: entered
   outside any scope (inside one: ``_nesting.nest``, as Python calls it), and left without an
   exception by a scope that nobody observes and that enqueued nothing (else the flush:
   ``_settle.flush_now``, ``Scope._release``, as Python calls them). A subclass, a scope not
   NEW (or not ACTIVE), an exception: the pure method, arguments unchanged. ``scope_methods``
   gives ``_kernel`` the two as method descriptors of ``Scope``. Keep in sync with
   ``Scope.__enter__`` and ``Scope.__exit__``. */

/* Whether the class ``type`` passes a judge asked once per class. ``answers`` keeps what it
   said as ``(bool, key)`` under ``key``, a weak reference to the class whose callback
   (``forget_class``) removes it when the class dies, as a ``WeakKeyDictionary`` does: a class
   made at run time is not kept alive. It is looked up by the class's own plain weak
   reference (the one its base's ``__subclasses__`` holds: no allocation), after ``last``, the
   answer given last. ``*judge`` is the Python function (``module.name``, imported at the
   first question). 1 or 0, or -1 with an exception set. */
static int
judged_once(speedups_state *st, PyObject *answers, last_answer *last, PyObject **judge,
            const char *module, const char *name, PyTypeObject *type)
{
    if (last->key != NULL && last->type == type) {
        return last->passes;
    }
    PyObject *ref = PyWeakref_NewRef((PyObject *)type, NULL);
    if (ref == NULL) {
        return -1;
    }
    PyObject *known = PyDict_GetItemWithError(answers, ref);  /* (refs of one live class are
                                                                 equal) */
    Py_DECREF(ref);
    if (known == NULL) {
        if (PyErr_Occurred()) {
            return -1;
        }
        if (*judge == NULL && (*judge = import_attr(module, name)) == NULL) {
            return -1;
        }
        PyObject *verdict = PyObject_CallOneArg(*judge, (PyObject *)type);
        PyObject *key = verdict == NULL
            ? NULL : PyWeakref_NewRef((PyObject *)type, st->forget_class);
        known = key == NULL ? NULL : PyTuple_Pack(2, verdict == Py_True ? Py_True : Py_False,
                                                  key);
        int stored = known == NULL ? -1 : PyDict_SetItem(answers, key, known);
        Py_XDECREF(verdict);
        Py_XDECREF(key);
        Py_XDECREF(known);  /* (the dict holds it) */
        if (stored < 0) {
            return -1;
        }
    }
    last->key = PyTuple_GET_ITEM(known, 1);
    last->type = type;
    last->passes = PyTuple_GET_ITEM(known, 0) == Py_True;
    return last->passes;
}

/* A class's weak reference died: its answers go, and so does a last answer for it. */
static PyObject *
forget_class(PyObject *module, PyObject *ref)
{
    /* held: CPython may call the callback of a class's last weak reference without holding
       it, and the first dict that lets it go would free it */
    Py_INCREF(ref);
    speedups_state *st = get_state(module);
    PyObject *answers[3] = {st->lifecycle_types, st->capture_types, st->built_types};
    last_answer *lasts[3] = {&st->lifecycle_last, &st->capture_last, &st->built_last};
    for (int i = 0; i < 3; i++) {
        if (lasts[i]->key == ref) {
            lasts[i]->key = NULL;
            lasts[i]->type = NULL;
        }
        if (answers[i] != NULL && PyDict_DelItem(answers[i], ref) < 0) {
            PyErr_Clear();  /* (another judge's answer) */
        }
    }
    Py_DECREF(ref);
    Py_RETURN_NONE;
}

static PyMethodDef forget_class_def = {"forget_class", forget_class, METH_O, NULL};

/* 1 when ``self``'s ``with`` may run here: an exact Scope, or a subclass that
   ``_kernel.inlines_lifecycle`` allows (Scope's lifecycle and slots; asked once per class);
   0 when the Python method must run; -1 with an exception set. */
static int
inlines_lifecycle(speedups_state *st, PyObject *self)
{
    PyTypeObject *type = Py_TYPE(self);
    if (type == (PyTypeObject *)st->scope_type) {
        return 1;
    }
    if (!PyType_IsSubtype(type, (PyTypeObject *)st->scope_type)) {
        return 0;
    }
    return judged_once(st, st->lifecycle_types, &st->lifecycle_last, &st->inlines_lifecycle,
                       "airlock._kernel", "inlines_lifecycle", type);
}

static PyObject *
scope_enter(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    speedups_state *st = get_state(module);
    if (nargs != 1) {
        return PyObject_Vectorcall(st->pure_enter, args, (size_t)nargs, NULL);
    }
    PyObject *self = args[0];
    int inlined = inlines_lifecycle(st, self);
    if (inlined < 0) {
        return NULL;
    }
    if (!inlined || SLOT(self, st->state_at) != st->state_new) {
        return PyObject_CallOneArg(st->pure_enter, self);
    }
    PyObject *outer = NULL;  /* the token's old_value, read before the set (NULL: unset) */
    if (PyContextVar_Get(st->current_target, NULL, &outer) < 0) {
        return NULL;
    }
    PyObject *token = PyContextVar_Set(st->current_target, self);
    if (token == NULL) {
        Py_XDECREF(outer);
        return NULL;
    }
    set_slot(self, st->token_at, token);
    Py_DECREF(token);
    if (outer == NULL || outer == st->token_missing || outer == st->no_scope) {
        Py_XDECREF(outer);
        set_slot(self, st->state_at, st->state_active);
        PyObject *plan = SLOT(self, st->plan_at);
        PyObject *hooked = plan == NULL ? NULL : SLOT(plan, st->enqueue_hooked_at);
        if (hooked == NULL) {
            PyErr_SetString(PyExc_AttributeError, "airlock: a scope without its plan");
            return NULL;
        }
        set_slot(self, st->accepting_at, PyObject_IsTrue(hooked) ? Py_False : Py_True);
        return Py_NewRef(self);
    }
    if (PyObject_TypeCheck(outer, (PyTypeObject *)st->scope_type)) {
        /* ``_nesting.nest`` for a scope (not a policy view), inlined: keep in sync. The
           parent's ambient policies are this scope's too. */
        PyObject *ambient = PyObject_GetAttr(outer, st->str_ambient_policies);
        if (ambient == NULL) {  /* getattr(parent, "_ambient_policies", ()) */
            if (!PyErr_ExceptionMatches(PyExc_AttributeError)) {
                Py_DECREF(outer);
                return NULL;
            }
            PyErr_Clear();
            ambient = Py_NewRef(st->empty_tuple);
        }
        int ambient_on = PyObject_IsTrue(ambient);
        PyObject *plan = SLOT(self, st->plan_at);
        PyObject *hooked = plan == NULL ? NULL : SLOT(plan, st->enqueue_hooked_at);
        if (ambient_on < 0 || hooked == NULL) {
            if (hooked == NULL && !PyErr_Occurred()) {
                PyErr_SetString(PyExc_AttributeError, "airlock: a scope without its plan");
            }
            Py_DECREF(ambient);
            Py_DECREF(outer);
            return NULL;
        }
        set_slot(self, st->parent_at, outer);
        set_slot(self, st->ambient_at, ambient);
        Py_DECREF(ambient);
        Py_DECREF(outer);
        set_slot(self, st->state_at, st->state_active);
        /* Scope._update_accepting */
        set_slot(self, st->accepting_at,
                 ambient_on || PyObject_IsTrue(hooked) ? Py_False : Py_True);
        return Py_NewRef(self);
    }
    PyObject *nested = PyObject_CallFunctionObjArgs(st->nest, self, outer, NULL);
    Py_DECREF(outer);
    if (nested == NULL) {
        return NULL;
    }
    Py_DECREF(nested);
    return Py_NewRef(self);
}

/* ``Scope._release``'s plain branch, for a scope used once with no parent: ``_plain.run_plain``
   with ``arrivals`` (each record of the live buffer called in order, what another thread
   appends meanwhile too). At an entry that is not a plain record, ``run_plain`` goes on from
   there; a task that raises goes to ``_plain.record_failure``, then its error is raised
   again. 1 when done, -1 with an exception set, 0 when ``_release`` must decide (anything
   else). Keep in sync with them. */
static int
release_plain(speedups_state *st, PyObject *self, PyObject *buffer)
{
    PyObject *plan = SLOT(self, st->plan_at);
    if (PyList_GET_SIZE(buffer) == 0 || SLOT(buffer, st->rich_at) != Py_False || plan == NULL
        || !Py_IS_TYPE(plan, (PyTypeObject *)st->plan_type)
        || SLOT(plan, st->plain_loop_at) != Py_True || SLOT(plan, st->plan_tick_at) != Py_False
        || SLOT(self, st->parent_at) != Py_None || SLOT(self, st->timed_at) != Py_True) {
        return 0;
    }
    set_slot(self, st->state_at, st->state_flushed);
    long long started = now_ns();
    if (started < 0) {
        return -1;
    }
    /* the live buffer: its length is read again at each step, as the pure loop's iterator */
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(buffer); i++) {
        PyObject *entry = PyList_GET_ITEM(buffer, i);
        if (!PyTuple_CheckExact(entry) || PyTuple_GET_SIZE(entry) != PLAIN_SIZE
            || !PyTuple_CheckExact(PyTuple_GET_ITEM(entry, 1))
            || !PyDict_CheckExact(PyTuple_GET_ITEM(entry, 2))) {  /* the rest: run_plain's */
            PyObject *done = PyObject_CallFunction(st->run_plain, "OOOnL", self, buffer, Py_True,
                                                   i, started);
            Py_XDECREF(done);
            return done == NULL ? -1 : 1;
        }
        Py_INCREF(entry);  /* (the task may replace it in the buffer: ``intents``) */
        PyObject *result = call_plain_record(st, entry);
        Py_DECREF(entry);
        if (result == NULL) {
            PyObject *exc = take_exception();
            PyObject *done = PyObject_CallFunction(st->record_failure, "OOnnL", self, exc,
                                                   PyList_GET_SIZE(buffer), i, started);
            reraise_after(done, exc);
            return -1;
        }
        Py_DECREF(result);
    }
    long long ended = now_ns();
    if (ended < 0 || set_int_slot(self, st->plain_ns_at, ended - started) < 0
        || set_int_slot(self, st->plain_count_at, PyList_GET_SIZE(buffer)) < 0) {
        return -1;
    }
    return 1;
}

/* Whether ``hand_over_plain`` may hand ``self``'s plain records (``buffer``) to its parent now:
   1 (``*theirs``: the parent's buffer), 0, or -1 with an exception set. */
static int
may_hand_over(speedups_state *st, PyObject *self, PyObject *buffer, PyObject **theirs)
{
    PyObject *plan = SLOT(self, st->plan_at), *parent = SLOT(self, st->parent_at);
    if (PyList_GET_SIZE(buffer) == 0 || SLOT(buffer, st->rich_at) != Py_False
        || SLOT(buffer, st->origins_at) != Py_None || plan == NULL
        || !Py_IS_TYPE(plan, (PyTypeObject *)st->plan_type)
        || SLOT(plan, st->plain_loop_at) != Py_True || SLOT(plan, st->plan_tick_at) != Py_False
        || SLOT(self, st->state_at) != st->state_pending
        || parent == NULL || parent == Py_None
        || !PyObject_TypeCheck(parent, (PyTypeObject *)st->scope_type)) {
        return 0;
    }
    int plainly = judged_once(st, st->capture_types, &st->capture_last, &st->captures_plainly,
                              "airlock._kernel", "captures_plainly", Py_TYPE(parent));
    if (plainly <= 0) {
        return plainly;
    }
    /* capturing_ancestor(): the parent, when it captures now; hand_over(): an active one */
    *theirs = SLOT(parent, st->buffer_at);
    PyObject *origins = *theirs == NULL ? NULL : SLOT(*theirs, st->origins_at);
    return SLOT(parent, st->state_at) == st->state_active
           && !(PyObject_TypeCheck(parent, (PyTypeObject *)st->tick_type)
                && SLOT(parent, st->closed_at) != Py_False)
           && *theirs != NULL && Py_IS_TYPE(*theirs, (PyTypeObject *)st->buffer_type)
           && origins != NULL && (origins == Py_None || PyList_CheckExact(origins));
}

/* ``Scope._release``'s plain branch for a scope used once whose parent is an open scope or
   tick that captures as Scope's and TickScope's do (``_kernel.captures_plainly``, asked once
   per class): ``_nesting.hand_over`` into the parent, with ``Buffer.capture`` of plain records
   (a mark for this scope where its records start, one where they end). 1 when done, -1 with
   an exception set, 0 when ``_release`` must decide (anything else). Keep in sync with them.

   The objects that the collector tracks are made first, the records' copy among them: making
   one may run a collection, so finalizers, so other threads, which may append to the parent's
   buffer or end its frame. The checks are then made again, and from the parent's length on
   nothing is made that could let another thread in: the records land at its end, where the
   marks say. (A first compiled hand-over inserted the scope's buffer itself: ``list`` copies a
   subclass it is given, in the middle of the insertion, after reading the length; another
   thread could then end the frame there, and the records were inserted before entries that
   frame had run: they never ran, and those ran twice; or open the next frame, whose removal
   freed the marks it went on writing to. The threaded stress test's "nested, collector"
   configuration failed that way about once in six runs.) */
static int
hand_over_plain(speedups_state *st, PyObject *self, PyObject *buffer)
{
    PyObject *theirs = NULL;
    int may = may_hand_over(st, self, buffer, &theirs);
    if (may <= 0) {
        return may;
    }
    int unmarked = SLOT(theirs, st->origins_at) == Py_None;  /* the marks list to make too */
    PyObject *records = snapshot_of(buffer, 0);  /* a list */
    PyObject *first = records == NULL ? NULL : PyTuple_New(2);
    PyObject *last = first == NULL ? NULL : PyTuple_New(2);
    PyObject *fresh = last == NULL || !unmarked ? NULL : PyList_New(0);
    if (last == NULL || (unmarked && fresh == NULL)) {
        Py_XDECREF(records);
        Py_XDECREF(first);
        Py_XDECREF(last);
        return -1;
    }
    may = may_hand_over(st, self, buffer, &theirs);
    Py_ssize_t count = PyList_GET_SIZE(records), start = PyList_GET_SIZE(theirs);
    if (may > 0 && (PyList_GET_SIZE(buffer) != count
                    || (fresh == NULL && SLOT(theirs, st->origins_at) == Py_None))) {
        may = 0;  /* (changed meanwhile: Python decides) */
    }
    PyObject *start_at = may <= 0 ? NULL : PyLong_FromSsize_t(start);  /* (not tracked) */
    PyObject *end_at = start_at == NULL ? NULL : PyLong_FromSsize_t(start + count);
    if (end_at == NULL) {
        Py_XDECREF(start_at);
        Py_DECREF(records);
        Py_DECREF(first);
        Py_DECREF(last);
        Py_XDECREF(fresh);
        return may <= 0 ? may : -1;
    }
    PyTuple_SET_ITEM(first, 0, start_at);
    PyTuple_SET_ITEM(first, 1, Py_NewRef(self));
    PyTuple_SET_ITEM(last, 0, end_at);
    PyTuple_SET_ITEM(last, 1, Py_NewRef(Py_None));
    set_slot(self, st->state_at, st->state_flushed);
    int status = set_int_slot(self, st->plain_count_at, count);
    set_slot(self, st->plain_captured_at, Py_True);
    PyObject *origins = SLOT(theirs, st->origins_at);
    if (origins == Py_None) {
        set_slot(theirs, st->origins_at, fresh);
        origins = fresh;
    }
    Py_INCREF(origins);  /* (held to the end: another thread's removal drops the slot's) */
    Py_XDECREF(fresh);  /* (held by the slot, or freed) */
    /* the last capture's end where this one starts: a burst of captures keeps one mark each */
    Py_ssize_t marks = PyList_GET_SIZE(origins);
    PyObject *end = marks > 0 ? PyList_GET_ITEM(origins, marks - 1) : NULL;
    int joined = 0;
    if (end != NULL && PyTuple_CheckExact(end) && PyTuple_GET_SIZE(end) == 2
        && PyTuple_GET_ITEM(end, 1) == Py_None && PyLong_CheckExact(PyTuple_GET_ITEM(end, 0))) {
        int overflow = 0;
        joined = PyLong_AsLongLongAndOverflow(PyTuple_GET_ITEM(end, 0), &overflow) == start
                 && !overflow;
    }
    if (status == 0 && joined) {
        status = PyList_SetItem(origins, marks - 1, first);  /* steals ``first`` */
        first = NULL;
    }
    else if (status == 0) {
        status = PyList_Append(origins, first);
    }
    Py_XDECREF(first);
    if (status == 0) {  /* the records at the end (an exact list: no object is made) */
        status = PyList_SetSlice(theirs, start, start, records);
    }
    Py_DECREF(records);
    if (status == 0) {
        status = PyList_Append(origins, last);
    }
    Py_DECREF(origins);
    Py_DECREF(last);
    if (status < 0) {
        return -1;
    }
    set_slot(self, st->parent_at, Py_None);  /* the parent's marks hold this scope: no cycle */
    return 1;
}

static PyObject *
scope_exit(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    speedups_state *st = get_state(module);
    PyObject *self = nargs == 4 ? args[0] : NULL;
    int inlined = self == NULL ? 0 : inlines_lifecycle(st, self);
    if (inlined < 0) {
        return NULL;
    }
    if (!inlined || args[2] != Py_None
        || SLOT(self, st->state_at) != st->state_active || SLOT(self, st->token_at) == NULL
        || SLOT(self, st->token_at) == Py_None) {
        return PyObject_Vectorcall(st->pure_exit, args, (size_t)nargs, NULL);
    }
    if (PyContextVar_Reset(st->current_target, SLOT(self, st->token_at)) < 0) {
        return NULL;
    }
    set_slot(self, st->token_at, Py_None);
    set_slot(self, st->state_at, st->state_pending);
    set_slot(self, st->accepting_at, Py_False);
    PyObject *observers = SLOT(self, st->observers_at);
    PyObject *buffer = SLOT(self, st->buffer_at);
    if (observers == NULL) {  /* (a subclass whose __init__ did not call Scope's) */
        PyErr_SetString(PyExc_AttributeError, "observers");
        return NULL;
    }
    int observed = PyObject_IsTrue(observers);
    if (observed < 0) {
        return NULL;
    }
    if (observed) {
        PyObject *flushed = PyObject_CallOneArg(st->flush_now, self);
        if (flushed == NULL) {
            return NULL;
        }
        Py_DECREF(flushed);
        Py_RETURN_NONE;
    }
    if (buffer == NULL || !Py_IS_TYPE(buffer, (PyTypeObject *)st->buffer_type)
        || PyList_GET_SIZE(buffer) != 0 || SLOT(buffer, st->rich_at) != Py_False) {
        int ran = buffer != NULL && Py_IS_TYPE(buffer, (PyTypeObject *)st->buffer_type)
            ? release_plain(st, self, buffer) : 0;
        if (ran == 0 && buffer != NULL && Py_IS_TYPE(buffer, (PyTypeObject *)st->buffer_type)) {
            ran = hand_over_plain(st, self, buffer);
        }
        if (ran) {
            return ran < 0 ? NULL : Py_NewRef(Py_None);
        }
        PyObject *released = PyObject_CallMethodNoArgs(self, st->str_release);
        if (released == NULL) {
            return NULL;
        }
        Py_DECREF(released);
        Py_RETURN_NONE;
    }
    set_slot(self, st->plain_count_at, st->zero);  /* _release() of an empty scope */
    set_slot(self, st->state_at, st->state_flushed);
    Py_RETURN_NONE;
}

/* ``(enter, exit)``: this module's functions of those names as instance methods (bound to the
   object they are looked up on, as a Python function is), for a class's ``with``. */
static PyObject *
instance_methods(PyObject *module, const char *enter_name, const char *exit_name)
{
    PyObject *enter = PyObject_GetAttrString(module, enter_name);
    PyObject *exit = enter == NULL ? NULL : PyObject_GetAttrString(module, exit_name);
    PyObject *as_enter = exit == NULL ? NULL : PyInstanceMethod_New(enter);
    PyObject *as_exit = as_enter == NULL ? NULL : PyInstanceMethod_New(exit);
    PyObject *pair = as_exit == NULL ? NULL : PyTuple_Pack(2, as_enter, as_exit);
    Py_XDECREF(enter);
    Py_XDECREF(exit);
    Py_XDECREF(as_enter);
    Py_XDECREF(as_exit);
    return pair;
}

/* ``(Scope.__enter__, Scope.__exit__)`` of the kernel: ``scope_enter`` and ``scope_exit``. */
static PyObject *
scope_methods(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    return instance_methods(module, "scope_enter", "scope_exit");
}

PyDoc_STRVAR(scope_enter_doc,
"scope_enter(scope, /)\n--\n\n``Scope.__enter__`` where the kernel runs (see ``scope_methods``).");
PyDoc_STRVAR(scope_exit_doc,
"scope_exit(scope, exc_type, exc, tb, /)\n--\n\n``Scope.__exit__`` where the kernel runs.");
PyDoc_STRVAR(scope_methods_doc,
"scope_methods()\n--\n\n"
"``(Scope.__enter__, Scope.__exit__)`` of the kernel, as instance methods.");

/* The lifecycle's references: 0, or -1 with an exception set. */
static int
scope_lifecycle_exec(speedups_state *st)
{
    PyObject *token_type = import_attr("contextvars", "Token");
    if (token_type == NULL) {
        return -1;
    }
    st->token_missing = PyObject_GetAttrString(token_type, "MISSING");
    Py_DECREF(token_type);
    PyObject *scope_dict = ((PyTypeObject *)st->scope_type)->tp_dict;
    st->pure_enter = Py_XNewRef(PyDict_GetItemString(scope_dict, "__enter__"));
    st->pure_exit = Py_XNewRef(PyDict_GetItemString(scope_dict, "__exit__"));
    if (st->token_missing == NULL || st->pure_enter == NULL || st->pure_exit == NULL
        || !PyFunction_Check(st->pure_enter) || !PyFunction_Check(st->pure_exit)) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_TypeError, "airlock._speedups needs Scope's own Python "
                            "__enter__ and __exit__");
        }
        return -1;
    }
    if ((st->nest = import_attr("airlock._nesting", "nest")) == NULL
        || (st->flush_now = import_attr("airlock._settle", "flush_now")) == NULL
        || (st->run_plain = import_attr("airlock._plain", "run_plain")) == NULL
        || (st->record_failure = import_attr("airlock._plain", "record_failure")) == NULL
        || (st->state_pending = import_attr("airlock._states", "PENDING")) == NULL
        || (st->str_release = PyUnicode_InternFromString("_release")) == NULL
        || (st->lifecycle_types = PyDict_New()) == NULL
        || (st->capture_types = PyDict_New()) == NULL
        || (st->built_types = PyDict_New()) == NULL) {
        return -1;
    }
    return 0;
}

/* -- policy blocks ---------------------------------------------------------------------------
   ``with airlock.policy(p):``: ``PolicyBlock.__enter__`` and ``__exit__`` where the kernel
   runs (``policy_methods``). The common block (a PolicyBlock not open yet, inside a scope or
   another block, with no ambient policies) opens and closes here, its ``PolicyView`` built
   in place; every other call goes to the pure methods, which raise the clear errors. Keep in
   sync with ``_context.PolicyBlock`` and ``PolicyView.__init__``. */

/* Whether ``policy`` has an ``on_enqueue`` hook and whether it may refuse (``allows`` not the
   inherited yes, or a ``withdraws`` method): ``_policies.has_enqueue_hook`` and ``not
   is_allow_all``. 0, or -1 with an exception set. */
static int
policy_traits(speedups_state *st, PyObject *policy, int *hooked, int *judges)
{
    PyObject *type = (PyObject *)Py_TYPE(policy);
    PyObject *names[2] = {st->str_on_enqueue, st->str_allows};
    PyObject *inherited[2] = {st->policy_on_enqueue, st->policy_allows};
    int *differs[2] = {hooked, judges};
    for (int i = 0; i < 2; i++) {
        if (_PyType_Lookup(Py_TYPE(type), names[i]) == NULL) {  /* (the usual metaclass) */
            /* nothing of the metaclass's own comes first: getattr finds what the class's MRO
               holds (a function as it is; any other descriptor differs from the inherited
               function either way) */
            *differs[i] = _PyType_Lookup((PyTypeObject *)type, names[i]) != inherited[i];
            continue;
        }
        PyObject *found = PyObject_GetAttr(type, names[i]);  /* getattr(type(p), name, None) */
        if (found == NULL) {
            if (!PyErr_ExceptionMatches(PyExc_AttributeError)) {
                return -1;
            }
            PyErr_Clear();
        }
        *differs[i] = found != inherited[i];
        Py_XDECREF(found);
    }
    if (!*judges) {  /* callable(getattr(policy, "withdraws", None)), with no AttributeError
                        built when it has none (the common policy: most of a block's cost) */
        PyObject *withdraws = attr_or_none(policy, st->str_withdraws);
        if (withdraws == NULL) {
            return -1;
        }
        *judges = PyCallable_Check(withdraws);
        Py_DECREF(withdraws);
    }
    return 0;
}

/* The view a block of ``policy`` opens over ``target`` (the current enqueue target), or
   NULL: with an exception set, or without one when the pure method must decide. */
static PyObject *
view_over(speedups_state *st, PyObject *target, PyObject *policy)
{
    PyObject *scope, *outer;
    int hooked = 0, judges = 0;
    if (Py_IS_TYPE(target, (PyTypeObject *)st->view_type)) {  /* a block inside a block */
        scope = SLOT(target, st->view_scope_at);
        outer = SLOT(target, st->view_policies_at);
        PyObject *outer_hooked = SLOT(target, st->view_hooked_at);
        PyObject *outer_judges = SLOT(target, st->view_filtering_at);
        if (scope == NULL || outer == NULL || !PyTuple_CheckExact(outer)
            || !PyBool_Check(outer_hooked) || !PyBool_Check(outer_judges)) {
            return NULL;
        }
        hooked = outer_hooked == Py_True;
        judges = outer_judges == Py_True;
    }
    else if (Py_IS_TYPE(target, (PyTypeObject *)st->scope_type)
             || Py_IS_TYPE(target, (PyTypeObject *)st->tick_type)) {  /* (a subclass: pure) */
        scope = target;
        outer = SLOT(target, st->ambient_at);  /* a tick's ambient policies: the pure path */
        if (outer == NULL || !PyTuple_CheckExact(outer) || PyTuple_GET_SIZE(outer) != 0) {
            return NULL;
        }
    }
    else {  /* NO_SCOPE, POLICY_GUARD: the pure method raises */
        return NULL;
    }
    /* held: policy_traits runs the policy's Python code (a ``withdraws`` lookup, a
       metaclass's attribute), which may rebind the slots they were read from */
    Py_INCREF(scope);
    Py_INCREF(outer);
    Py_INCREF(policy);
    PyObject *policies = NULL, *view = NULL;
    int own_hooked, own_judges;
    if (policy_traits(st, policy, &own_hooked, &own_judges) < 0) {
        goto done;
    }
    Py_ssize_t count = PyTuple_GET_SIZE(outer);
    policies = PyTuple_New(count + 1);  /* innermost first */
    if (policies == NULL) {
        goto done;
    }
    PyTuple_SET_ITEM(policies, 0, Py_NewRef(policy));
    for (Py_ssize_t i = 0; i < count; i++) {
        PyTuple_SET_ITEM(policies, i + 1, Py_NewRef(PyTuple_GET_ITEM(outer, i)));
    }
    PyTypeObject *view_type = (PyTypeObject *)st->view_type;
    view = view_type->tp_alloc(view_type, 0);
    if (view == NULL) {
        goto done;
    }
    set_slot(view, st->view_scope_at, scope);
    set_slot(view, st->view_policies_at, policies);
    set_slot(view, st->view_hooked_at, (hooked || own_hooked) ? Py_True : Py_False);
    set_slot(view, st->view_filtering_at, (judges || own_judges) ? Py_True : Py_False);
done:
    Py_XDECREF(policies);
    Py_DECREF(policy);
    Py_DECREF(outer);
    Py_DECREF(scope);
    return view;
}

static PyObject *
policy_enter(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    speedups_state *st = get_state(module);
    PyObject *block = nargs == 1 ? args[0] : NULL;
    if (block == NULL || !Py_IS_TYPE(block, (PyTypeObject *)st->block_type)
        || SLOT(block, st->block_token_at) != Py_None
        || SLOT(block, st->block_policy_at) == NULL) {  /* open already: the pure one raises */
        return PyObject_Vectorcall(st->pure_block_enter, args, (size_t)nargs, NULL);
    }
    PyObject *target;
    if (PyContextVar_Get(st->current_target, NULL, &target) < 0) {
        return NULL;
    }
    PyObject *view = view_over(st, target, SLOT(block, st->block_policy_at));
    Py_DECREF(target);
    if (view == NULL) {
        return PyErr_Occurred() ? NULL
            : PyObject_Vectorcall(st->pure_block_enter, args, (size_t)nargs, NULL);
    }
    PyObject *token = PyContextVar_Set(st->current_target, view);
    Py_DECREF(view);
    if (token == NULL) {
        return NULL;
    }
    set_slot(block, st->block_token_at, token);
    Py_DECREF(token);
    Py_RETURN_NONE;
}

static PyObject *
policy_exit(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    speedups_state *st = get_state(module);
    PyObject *block = nargs == 4 ? args[0] : NULL;
    PyObject *token = block != NULL && Py_IS_TYPE(block, (PyTypeObject *)st->block_type)
        ? SLOT(block, st->block_token_at) : NULL;
    if (token == NULL) {
        return PyObject_Vectorcall(st->pure_block_exit, args, (size_t)nargs, NULL);
    }
    Py_INCREF(token);
    set_slot(block, st->block_token_at, Py_None);
    int reset = token == Py_None ? 0 : PyContextVar_Reset(st->current_target, token);
    Py_DECREF(token);
    if (reset < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/* ``airlock.policy(p)`` where the kernel runs: a PolicyBlock of ``p``, made in place when
   ``p`` is plainly a policy (not a class; callable ``on_enqueue`` and ``allows``, as
   ``_policies.check_policy`` asks); anything else goes to ``_context.policy``, which raises
   the clear error. Keep in sync with them and with ``PolicyBlock.__init__``. */
static PyObject *
new_policy_block(PyObject *module, PyObject *policy)
{
    speedups_state *st = get_state(module);
    int plain = !PyType_Check(policy);
    PyObject *names[2] = {st->str_on_enqueue, st->str_allows};
    for (int i = 0; plain && i < 2; i++) {
        PyObject *method = PyObject_GetAttr(policy, names[i]);
        if (method == NULL) {
            PyErr_Clear();  /* the pure check asks again, and says what is missing */
            plain = 0;
        }
        else {
            plain = PyCallable_Check(method);
            Py_DECREF(method);
        }
    }
    if (!plain) {
        return PyObject_CallOneArg(st->pure_policy, policy);
    }
    PyTypeObject *block_type = (PyTypeObject *)st->block_type;
    PyObject *block = block_type->tp_alloc(block_type, 0);
    if (block != NULL) {
        set_slot(block, st->block_policy_at, policy);
        set_slot(block, st->block_token_at, Py_None);
    }
    return block;
}

/* ``(PolicyBlock.__enter__, PolicyBlock.__exit__)`` of the kernel. */
static PyObject *
policy_methods(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    return instance_methods(module, "policy_enter", "policy_exit");
}

PyDoc_STRVAR(policy_enter_doc,
"policy_enter(block, /)\n--\n\n``PolicyBlock.__enter__`` where the kernel runs.");
PyDoc_STRVAR(policy_exit_doc,
"policy_exit(block, exc_type, exc, tb, /)\n--\n\n``PolicyBlock.__exit__`` where the kernel runs.");
PyDoc_STRVAR(new_policy_block_doc,
"policy($module, p, /)\n--\n\n"
"Apply ``p`` (as well as the scope's policy) to intents enqueued inside this block.\n\n"
"``with airlock.policy(p):`` or ``@airlock.policy(p)``. Local policies share the scope's\n"
"buffer; at flush the innermost runs first.");
PyDoc_STRVAR(policy_methods_doc,
"policy_methods()\n--\n\n"
"``(PolicyBlock.__enter__, PolicyBlock.__exit__)`` of the kernel, as instance methods.");

/* The policy blocks' references: 0, or -1 with an exception set. */
static int
policy_block_exec(speedups_state *st)
{
    if ((st->block_type = import_class("airlock._context", "PolicyBlock", NULL)) == NULL) {
        return -1;
    }
    PyObject *block_dict = ((PyTypeObject *)st->block_type)->tp_dict;
    st->pure_block_enter = Py_XNewRef(PyDict_GetItemString(block_dict, "__enter__"));
    st->pure_block_exit = Py_XNewRef(PyDict_GetItemString(block_dict, "__exit__"));
    if (st->pure_block_enter == NULL || st->pure_block_exit == NULL
        || !PyFunction_Check(st->pure_block_enter) || !PyFunction_Check(st->pure_block_exit)) {
        PyErr_SetString(PyExc_TypeError, "airlock._speedups needs PolicyBlock's own Python "
                        "__enter__ and __exit__");
        return -1;
    }
    if ((st->pure_policy = import_attr("airlock._context", "policy")) == NULL) {
        return -1;
    }
    PyObject *policy_class = import_attr("airlock._policies", "Policy");
    if (policy_class == NULL) {
        return -1;
    }
    st->policy_on_enqueue = PyObject_GetAttrString(policy_class, "on_enqueue");
    st->policy_allows = PyObject_GetAttrString(policy_class, "allows");
    Py_DECREF(policy_class);
    if (st->policy_on_enqueue == NULL || st->policy_allows == NULL
        || (st->str_on_enqueue = PyUnicode_InternFromString("on_enqueue")) == NULL
        || (st->str_allows = PyUnicode_InternFromString("allows")) == NULL
        || (st->str_withdraws = PyUnicode_InternFromString("withdraws")) == NULL
        || (st->str_ambient_policies = PyUnicode_InternFromString("_ambient_policies")) == NULL
        || (st->block_token_at = slot_offset(st->block_type, st->block_type, "_token")) < 0
        || (st->block_policy_at = slot_offset(st->block_type, st->block_type, "policy")) < 0) {
        return -1;
    }
    return 0;
}

static PyMethodDef speedups_methods[] = {
    {"scope_enter", (PyCFunction)(void (*)(void))scope_enter, METH_FASTCALL, scope_enter_doc},
    {"scope_exit", (PyCFunction)(void (*)(void))scope_exit, METH_FASTCALL, scope_exit_doc},
    {"scope_methods", scope_methods, METH_NOARGS, scope_methods_doc},
    {"policy_enter", (PyCFunction)(void (*)(void))policy_enter, METH_FASTCALL, policy_enter_doc},
    {"policy_exit", (PyCFunction)(void (*)(void))policy_exit, METH_FASTCALL, policy_exit_doc},
    {"policy_methods", policy_methods, METH_NOARGS, policy_methods_doc},
    {"policy", new_policy_block, METH_O, new_policy_block_doc},
    {"scope", (PyCFunction)(void (*)(void))fresh_scope, METH_FASTCALL | METH_KEYWORDS,
     fresh_scope_doc},
    {"coalesce", (PyCFunction)(void (*)(void))coalesce, METH_FASTCALL, coalesce_doc},
    {"order", (PyCFunction)(void (*)(void))order, METH_FASTCALL, order_doc},
    {"call_each", (PyCFunction)(void (*)(void))call_each, METH_FASTCALL, call_each_doc},
    {"merge_batches", (PyCFunction)(void (*)(void))merge_batches, METH_FASTCALL,
     merge_batches_doc},
    {"inline_frame", (PyCFunction)(void (*)(void))inline_frame, METH_FASTCALL,
     inline_frame_doc},
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

/* ``module.name``, a class (a subclass of ``base``, unless NULL): a new reference, or NULL
   with an exception set that says what the module needs. */
static PyObject *
import_class(const char *module, const char *name, PyTypeObject *base)
{
    PyObject *cls = import_attr(module, name);
    if (cls != NULL && (!PyType_Check(cls)
                        || (base != NULL && !PyType_IsSubtype((PyTypeObject *)cls, base)))) {
        PyErr_Format(PyExc_TypeError, "airlock._speedups needs %s.%s to be a %s; rebuild it",
                     module, name, base == NULL ? "class" : base->tp_name);
        Py_CLEAR(cls);
    }
    return cls;
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
        PyErr_Format(PyExc_TypeError, "airlock._speedups needs %s to be a __slots__ member of %s",
                     name, ((PyTypeObject *)base)->tp_name);
    }
    Py_DECREF(member);
    Py_XDECREF(inherited);
    return offset;
}

/* The record layout this module builds and reads is ``airlock._record``'s: 0, or -1. */
static int
check_record_layout(void)
{
    static const struct { const char *name; long value; } fields[] = {
        {"PLAIN", PLAIN_SIZE}, {"NAME", NAME_AT}, {"DISPATCH_OPTIONS", DISPATCH_OPTIONS_AT},
        {"ORIGIN", ORIGIN_AT}, {"KEY", KEY_AT}, {"LOCAL_POLICIES", LOCAL_POLICIES_AT},
        {"SCOPE", SCOPE_AT},
    };
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        PyObject *value = import_attr("airlock._record", fields[i].name);
        if (value == NULL) {
            return -1;
        }
        long found = PyLong_Check(value) ? PyLong_AsLong(value) : -1;
        Py_DECREF(value);
        if (found != fields[i].value) {
            PyErr_Format(PyExc_TypeError, "airlock._speedups was built for another record "
                         "layout (airlock._record.%s); rebuild it", fields[i].name);
            return -1;
        }
    }
    return 0;
}

/* The stages' references (see "The per-intent stages"): 0, or -1 with an exception set. */
static int
stages_exec(speedups_state *st)
{
    if (check_record_layout() < 0
        || (st->pure_coalesce = import_attr("airlock._coalesce", "coalesce")) == NULL
        || (st->pure_order = import_attr("airlock._ordering", "order")) == NULL
        || (st->pure_merge_batches = import_attr("airlock._batch", "merge_batches")) == NULL
        || (st->pure_dispatch = import_attr("airlock._dispatch", "dispatch")) == NULL
        || (st->sync_executor = import_attr("airlock._executor", "sync_executor")) == NULL
        || (st->refuse_coroutine = import_attr("airlock._executor", "refuse_coroutine")) == NULL
        || (st->no_kwargs = import_attr("airlock._intent", "NO_KWARGS")) == NULL
        || (st->fail_or_stop = import_attr("airlock._dispatch", "fail_or_stop")) == NULL
        || (st->shift_token = import_attr("airlock._buffer", "SHIFT_TOKEN")) == NULL
        || (st->take_for_removal = import_attr("airlock._buffer", "take_for_removal")) == NULL
        || (st->empty_tuple = PyTuple_New(0)) == NULL
        || (st->intent_type = import_class("airlock._intent", "Intent",
                                           &PyTuple_Type)) == NULL) {
        return -1;
    }
    if (!PyList_CheckExact(st->shift_token)) {
        PyErr_SetString(PyExc_TypeError, "airlock._speedups needs airlock._buffer.SHIFT_TOKEN "
                        "to be a list");
        return -1;
    }
    if (!PyDict_CheckExact(st->no_kwargs)) {
        PyErr_SetString(PyExc_TypeError, "airlock._speedups needs airlock._intent.NO_KWARGS "
                        "to be a dict");
        return -1;
    }
    PyObject **names[] = {&st->str_dispatched, &st->str_stats, &st->str_watching,
                          &st->str_executor, &st->str_coalesced, &st->str_batched,
                          &st->str_order_by, &st->str_phase_ranks, &st->str_airlock_phase,
                          &st->str_phase, &st->str_handler, &st->str_dunder_name};
    const char *texts[] = {"dispatched", "stats", "watching", "executor", "coalesced", "batched",
                           "order_by", "phase_ranks", "airlock_phase", "phase", "handler",
                           "__name__"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if ((*names[i] = PyUnicode_InternFromString(texts[i])) == NULL) {
            return -1;
        }
    }
    return 0;
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
    st->buffer_type = import_class("airlock._buffer", "Buffer", &PyList_Type);
    if (st->buffer_type == NULL) {
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
    st->batch_type = import_class("airlock._batch", "Batch", NULL);
    st->partial_type = import_class("functools", "partial", NULL);
    if (st->batch_type == NULL || st->partial_type == NULL) {
        return -1;
    }
    if ((st->rich_at = slot_offset(st->buffer_type, st->buffer_type, "rich")) < 0
        || (st->keyed_at = slot_offset(st->buffer_type, st->buffer_type, "keyed")) < 0
        || (st->batching_at = slot_offset(st->buffer_type, st->buffer_type, "batching")) < 0) {
        return -1;
    }
    st->frame_type = PyType_FromModuleAndSpec(module, &inline_frame_spec, NULL);
    st->no_scope = import_attr("airlock._context", "NO_SCOPE");
    st->mode_open = import_attr("airlock._states", "OPEN");
    st->mode_idle = import_attr("airlock._states", "IDLE");
    st->mode_kept = import_attr("airlock._states", "KEPT");
    st->mode_general = import_attr("airlock._states", "GENERAL");
    st->plan_type = import_attr("airlock._plan", "FlushPlan");
    st->state_active = import_attr("airlock._states", "ACTIVE");
    st->state_flushed = import_attr("airlock._states", "FLUSHED");
    if (st->frame_type == NULL || st->no_scope == NULL || st->mode_open == NULL
        || st->mode_idle == NULL || st->mode_kept == NULL || st->mode_general == NULL
        || st->plan_type == NULL || st->state_active == NULL
        || st->state_flushed == NULL) {
        return -1;
    }
    /* close_rich's classes too */
    if ((st->stats_type = import_class("airlock._stats", "FlushStats", NULL)) == NULL
        || (st->ctx_type = import_class("airlock._flush", "FlushContext", NULL)) == NULL
        || (st->held_type = import_class("airlock._cadence", "HeldEffects", NULL)) == NULL
        || (st->str_flush_context = PyUnicode_InternFromString("_flush_context")) == NULL
        || (st->str_rescan = PyUnicode_InternFromString("rescan")) == NULL
        || (st->str_force_general = PyUnicode_InternFromString("force_general")) == NULL) {
        return -1;
    }
    PyObject *tick = st->tick_type, *scope = st->scope_type, *plan = st->plan_type;
    PyObject *buffer = st->buffer_type, *stats = st->stats_type, *ctx = st->ctx_type;
    /* the slots read and written in place: (offset, the class that defines it, the class
       that must inherit it unchanged, name) */
    struct { Py_ssize_t *at; PyObject *base, *sub; const char *name; } members[] = {
        {&st->inline_at, tick, tick, "_inline"}, {&st->spent_at, tick, tick, "_spent"},
        {&st->owner_at, tick, tick, "_owner"}, {&st->token_at, scope, tick, "_token"},
        {&st->frame_at, tick, tick, "frame"}, {&st->state_at, scope, tick, "_state"},
        {&st->plain_count_at, scope, tick, "_plain_count"}, {&st->keep_at, tick, tick, "_keep"},
        {&st->plain_captured_at, scope, tick, "_plain_captured"},
        {&st->closed_at, tick, tick, "_closed"},
        {&st->plain_ns_at, scope, tick, "_plain_ns"}, {&st->timed_at, scope, tick, "_timed"},
        {&st->plan_at, scope, tick, "_plan"}, {&st->ctx_at, tick, tick, "_ctx"},
        {&st->held_at, tick, tick, "_held"}, {&st->carry_at, tick, tick, "_carry"},
        {&st->frame_budget_at, tick, tick, "_frame_budget"},
        {&st->plain_loop_at, plan, plan, "plain_loop"},
        {&st->enqueue_hooked_at, plan, plan, "enqueue_hooked"},
        {&st->policy_hooked_at, plan, plan, "policy_hooked"},
        {&st->on_records_at, plan, plan, "on_records"},
        {&st->dispatcher_at, plan, plan, "dispatcher"}, {&st->judging_at, plan, plan, "judging"},
        {&st->watching_at, plan, plan, "watching"}, {&st->plan_tick_at, plan, plan, "tick"},
        {&st->origins_at, buffer, buffer, "origins"},
        {&st->removed_at, buffer, buffer, "removed"},
        {&st->filtering_at, buffer, buffer, "filtering"},
        {&st->enqueued_at, stats, stats, "enqueued"}, {&st->flush_ns_at, stats, stats, "flush_ns"},
        {&st->failures_at, stats, stats, "failures"}, {&st->pending_at, stats, stats, "pending"},
        {&st->dispatched_at, stats, stats, "dispatched"},
        {&st->coalesced_at, stats, stats, "coalesced"},
        {&st->batched_at, stats, stats, "batched"},
        {&st->waiting_at, st->held_type, st->held_type, "_waiting"},
        {&st->ctx_stats_at, ctx, ctx, "stats"}, {&st->ctx_policy_at, ctx, ctx, "policy"},
        {&st->ctx_executor_at, ctx, ctx, "executor"}, {&st->ctx_order_by_at, ctx, ctx, "order_by"},
        {&st->ctx_errors_at, ctx, ctx, "errors"}, {&st->ctx_watching_at, ctx, ctx, "watching"},
        {&st->ctx_tell_at, ctx, ctx, "tell"},
        {&st->ctx_judging_at, ctx, ctx, "judging"}, {&st->ctx_dispatch_at, ctx, ctx, "dispatch"},
        {&st->ctx_filtering_at, ctx, ctx, "filtering"}, {&st->ctx_keyed_at, ctx, ctx, "keyed"},
        {&st->ctx_batching_at, ctx, ctx, "batching"}, {&st->ctx_capture_at, ctx, ctx, "capture"},
        {&st->ctx_hold_at, ctx, ctx, "hold"}, {&st->ctx_budget_at, ctx, ctx, "budget"},
    };
    for (size_t i = 0; i < sizeof(members) / sizeof(members[0]); i++) {
        *members[i].at = slot_offset(members[i].base, members[i].sub, members[i].name);
        if (*members[i].at < 0) {
            return -1;
        }
    }
    /* FlushStats' counters: every slot but failures */
    PyObject *names = PyObject_GetAttrString(st->stats_type, "__slots__");
    if (names == NULL || !PyTuple_Check(names)) {
        if (names != NULL) {
            PyErr_SetString(PyExc_TypeError, "airlock._speedups needs FlushStats.__slots__");
        }
        Py_XDECREF(names);
        return -1;
    }
    st->counters = 0;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(names); i++) {
        const char *name = PyUnicode_AsUTF8(PyTuple_GET_ITEM(names, i));
        if (name == NULL || st->counters == MAX_COUNTERS) {
            if (name != NULL) {
                PyErr_SetString(PyExc_TypeError,
                                "airlock._speedups: FlushStats has too many counters");
            }
            Py_DECREF(names);
            return -1;
        }
        if (strcmp(name, "failures") == 0) {
            continue;
        }
        Py_ssize_t at = slot_offset(st->stats_type, st->stats_type, name);
        if (at < 0) {
            Py_DECREF(names);
            return -1;
        }
        st->counters_at[st->counters++] = at;
    }
    Py_DECREF(names);
    st->view_type = import_class("airlock._context", "PolicyView", NULL);
    if (st->view_type == NULL) {
        return -1;
    }
    if ((st->view_scope_at = slot_offset(st->view_type, st->view_type, "scope")) < 0
        || (st->view_policies_at = slot_offset(st->view_type, st->view_type, "policies")) < 0
        || (st->view_hooked_at = slot_offset(st->view_type, st->view_type, "hooked")) < 0
        || (st->view_filtering_at = slot_offset(st->view_type, st->view_type,
                                                "filtering")) < 0) {
        return -1;
    }
    st->observer_set_type = import_class("airlock._observe", "ObserverSet", NULL);
    if (st->observer_set_type == NULL
        || (st->observing_at = slot_offset(st->scope_type, st->tick_type, "_observing")) < 0
        || (st->set_listeners_at = slot_offset(st->observer_set_type, st->observer_set_type,
                                               "listeners")) < 0
        || (st->set_failure_at = slot_offset(st->observer_set_type, st->observer_set_type,
                                             "_failure")) < 0
        || (st->str_enqueued = PyUnicode_InternFromString("enqueued")) == NULL
        || (st->str_flushed = PyUnicode_InternFromString("flushed")) == NULL
        || (st->str_notify_flushed = PyUnicode_InternFromString("_notify_flushed")) == NULL
        || (st->str_hook_failed = PyUnicode_InternFromString("hook_failed")) == NULL
        || (st->observer_set_tell = PyObject_GetAttrString(st->observer_set_type,
                                                           "tell")) == NULL) {
        return -1;
    }
    st->str_key = PyUnicode_InternFromString("_key");
    st->str_name = PyUnicode_InternFromString("_name");
    st->str_origin = PyUnicode_InternFromString("_origin");
    st->str_dispatch_options = PyUnicode_InternFromString("_dispatch_options");
    if (st->str_key == NULL || st->str_name == NULL || st->str_origin == NULL
        || st->str_dispatch_options == NULL) {
        return -1;
    }
    st->str_accepting = PyUnicode_InternFromString("_accepting");
    st->str_buffer = PyUnicode_InternFromString("_buffer");
    st->str_append = PyUnicode_InternFromString("append");
    if (st->str_accepting == NULL || st->str_buffer == NULL || st->str_append == NULL) {
        return -1;
    }
    if (stages_exec(st) < 0 || fresh_scope_exec(st) < 0 || policy_block_exec(st) < 0) {
        return -1;
    }
    /* (bound to the module: a reference cycle through the state, which the GC visits) */
    if ((st->forget_class = PyCFunction_New(&forget_class_def, module)) == NULL) {
        return -1;
    }
    return scope_lifecycle_exec(st);
}

static int
speedups_traverse(PyObject *module, visitproc visit, void *arg)
{
    speedups_state *st = get_state(module);
    if (st == NULL) {
        return 0;
    }
#define VISIT_OBJECT(name) Py_VISIT(st->name);
    STATE_OBJECTS(VISIT_OBJECT)
#undef VISIT_OBJECT
    return 0;
}

static int
speedups_clear(PyObject *module)
{
    speedups_state *st = get_state(module);
    if (st == NULL) {
        return 0;
    }
#define CLEAR_OBJECT(name) Py_CLEAR(st->name);
    STATE_OBJECTS(CLEAR_OBJECT)
#undef CLEAR_OBJECT
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
"The compiled kernel of airlock (optional): enqueue, a tick's frame and a flush's stages in C.\n"
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
