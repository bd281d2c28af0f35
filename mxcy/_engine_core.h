// Dependency bookkeeping and worker threads of mxcy's threaded engine.
// Everything here runs under one engine mutex and never touches Python objects,
// except Op's PyObject* fields and the op pool, which only GIL holders touch.
#pragma once
#include <Python.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

namespace mxcy {

struct Op;
struct Queue;

// One waiting access to a var, in push order.
struct Node {
  Op* op;
  Node* next;
  bool write;
};

struct VarState {
  Node* head = nullptr;
  Node* tail = nullptr;
  int running_reads = 0;   // granted reads not yet completed
  bool write_running = false;
  long pending_writes = 0;  // pushed and not completed: what wait_for_var waits on
  // Push-time duplicate detection; only the pushing thread (holding the GIL) uses them.
  unsigned long long mark_r = 0;
  unsigned long long mark_w = 0;
};

struct Op {
  PyObject* fn = nullptr;  // owned references, touched only with the GIL held
  PyObject* name = nullptr;
  PyObject* reads = nullptr;
  PyObject* writes = nullptr;
  std::vector<VarState*> rv, wv;
  Queue* q = nullptr;
  Op* next_free = nullptr;
  unsigned long long seq = 0;
  int wait = 0;  // accesses not yet granted
  int priority = 0;
  bool light = false;  // microseconds of work: a pushing thread may run it itself
};

struct OpAfter {  // heap order: higher priority first, then push order
  bool operator()(const Op* a, const Op* b) const {
    return a->priority != b->priority ? a->priority < b->priority : a->seq > b->seq;
  }
};

struct Queue {
  std::priority_queue<Op*, std::vector<Op*>, OpAfter> ready;
  std::condition_variable cv;
  std::vector<std::thread> threads;
  int nthreads = 0;
  size_t idle = 0;      // workers asleep in next_op
  size_t signaled = 0;  // of those, already notified: saves repeated futex wakes of one sleeper
};

// Runs `op` (and possibly more ready ops of `q`) with the GIL held by the caller.
typedef void (*RunBatch)(void* owner, Queue* q, Op* op);

// Nonzero on engine worker threads and inside any running op: waiting there would deadlock.
inline int& tls_in_op() {
  static thread_local int depth = 0;
  return depth;
}
inline int in_op() { return tls_in_op(); }
inline void enter_op() { ++tls_in_op(); }
inline void leave_op() { --tls_in_op(); }

class Core {
 public:
  Core(RunBatch run, void* owner, int cpu_workers) : run_(run), owner_(owner) {
    cpu_.nthreads = cpu_workers;
  }
  ~Core() {
    stop_join();
    for (auto& kv : gpus_) delete kv.second;
    while (free_nodes_) {
      Node* n = free_nodes_;
      free_nodes_ = n->next;
      delete n;
    }
    while (free_ops_) {
      Op* o = free_ops_;
      free_ops_ = o->next_free;
      delete o;
    }
  }

  Queue* cpu_queue() { return &cpu_; }

  Queue* gpu_queue(int dev) {
    std::lock_guard<std::mutex> lk(mu_);
    auto it = gpus_.find(dev);
    if (it != gpus_.end()) return it->second;
    Queue* q = new Queue();
    q->nthreads = 1;
    gpus_[dev] = q;
    if (started_) launch(q);
    return q;
  }

  // Starts (or, after a fork or stop_join, restarts) the worker threads.
  void start() {
    std::lock_guard<std::mutex> lk(mu_);
    stopping_ = false;
    started_ = true;
    launch(&cpu_);
    for (auto& kv : gpus_) launch(kv.second);
  }

  // In a fork child (threads were joined before the fork): another thread of the parent may
  // have held the mutex or waited on a condition variable at that instant, so start afresh.
  void reset_after_fork() {
    new (&mu_) std::mutex();
    new (&done_cv_) std::condition_variable();
    waiters_ = 0;
    reset_queue(&cpu_);
    for (auto& kv : gpus_) reset_queue(kv.second);
  }

  // Op pool: callers hold the GIL, which serializes pushers and completing workers.
  Op* alloc_op() {
    Op* o = free_ops_;
    if (!o) return new Op();
    free_ops_ = o->next_free;
    return o;
  }
  void free_op(Op* o) {
    o->rv.clear();
    o->wv.clear();
    o->next_free = free_ops_;
    free_ops_ = o;
  }

  void push(Op* op) {
    std::lock_guard<std::mutex> lk(mu_);
    op->seq = ++seq_;
    op->wait = 0;
    ++pending_;
    if (!op->light) ++heavy_pending_;
    for (VarState* v : op->rv) {
      if (!v->write_running && !v->head) {
        ++v->running_reads;
      } else {
        enqueue(v, op, false);
      }
    }
    for (VarState* v : op->wv) {
      ++v->pending_writes;
      if (!v->write_running && v->running_reads == 0 && !v->head) {
        v->write_running = true;
      } else {
        enqueue(v, op, true);
      }
    }
    if (op->wait == 0) make_ready(op, nullptr);
  }

  // Grants all of op's accesses at once when none would wait, for the pushing thread to run op
  // itself at once (cheaper than a worker handoff for a light op); otherwise changes nothing.
  bool claim(Op* op) {
    std::lock_guard<std::mutex> lk(mu_);
    for (VarState* v : op->rv) {
      if (v->write_running || v->head) return false;
    }
    for (VarState* v : op->wv) {
      if (v->write_running || v->running_reads || v->head) return false;
    }
    op->seq = ++seq_;
    op->wait = 0;
    ++pending_;
    if (!op->light) ++heavy_pending_;
    for (VarState* v : op->rv) ++v->running_reads;
    for (VarState* v : op->wv) {
      ++v->pending_writes;
      v->write_running = true;
    }
    return true;
  }

  // Releases op's accesses; returns the next ready op of `q` when `take_next`.
  Op* complete(Op* op, Queue* q, bool take_next) {
    std::lock_guard<std::mutex> lk(mu_);
    for (VarState* v : op->rv) {
      if (--v->running_reads == 0) pump(v, q);
    }
    for (VarState* v : op->wv) {
      v->write_running = false;
      --v->pending_writes;
      pump(v, q);
    }
    --pending_;
    if (!op->light) --heavy_pending_;
    if (waiters_) done_cv_.notify_all();
    Op* next = nullptr;
    if (take_next && !q->ready.empty()) {
      next = q->ready.top();
      q->ready.pop();
    }
    wake(q);  // for the ready ops this thread will not run itself
    return next;
  }

  // Whether every op pushed and not completed is light.
  bool only_light_pending() {
    std::lock_guard<std::mutex> lk(mu_);
    return heavy_pending_ == 0;
  }

  // Waits until some op completes (false after timeout_ms).
  bool wait_progress(int timeout_ms) {
    std::unique_lock<std::mutex> lk(mu_);
    long before = pending_;
    return wait_until(lk, timeout_ms, [this, before] { return pending_ < before; });
  }

  bool var_idle(VarState* v) {
    std::lock_guard<std::mutex> lk(mu_);
    return v->pending_writes == 0;
  }
  bool all_idle() {
    std::lock_guard<std::mutex> lk(mu_);
    return pending_ == 0;
  }

  // Pops the top ready op of `q` for a waiting thread to run itself, saving two thread
  // handoffs; with `v`, only an op that writes v (anything else might be a long unrelated op).
  Op* steal(Queue* q, VarState* v) {
    std::lock_guard<std::mutex> lk(mu_);
    if (q->ready.empty()) return nullptr;
    Op* op = q->ready.top();
    if (v && std::find(op->wv.begin(), op->wv.end(), v) == op->wv.end()) return nullptr;
    q->ready.pop();
    return op;
  }

  // Both waits give up after timeout_ms so the caller can check for signals.
  bool wait_var(VarState* v, int timeout_ms) {
    std::unique_lock<std::mutex> lk(mu_);
    return wait_until(lk, timeout_ms, [v] { return v->pending_writes == 0; });
  }
  bool wait_all(int timeout_ms) {
    std::unique_lock<std::mutex> lk(mu_);
    return wait_until(lk, timeout_ms, [this] { return pending_ == 0; });
  }

  // Joins every worker once the ready queues are drained; callers wait_all first.
  void stop_join() {
    std::vector<std::thread> ts;
    {
      std::lock_guard<std::mutex> lk(mu_);
      stopping_ = true;
      started_ = false;
      collect(&cpu_, &ts);
      for (auto& kv : gpus_) collect(kv.second, &ts);
    }
    for (auto& t : ts) t.join();
  }

 private:
  void enqueue(VarState* v, Op* op, bool write) {
    Node* n = free_nodes_;
    if (n) {
      free_nodes_ = n->next;
    } else {
      n = new Node();
    }
    n->op = op;
    n->next = nullptr;
    n->write = write;
    if (v->tail) {
      v->tail->next = n;
    } else {
      v->head = n;
    }
    v->tail = n;
    ++op->wait;
  }

  // Grants the accesses at the front of v's queue that no longer conflict.
  void pump(VarState* v, Queue* self_q) {
    while (Node* n = v->head) {
      if (n->write) {
        if (v->running_reads || v->write_running) return;
        v->write_running = true;
      } else {
        if (v->write_running) return;
        ++v->running_reads;
      }
      v->head = n->next;
      if (!v->head) v->tail = nullptr;
      Op* op = n->op;
      n->next = free_nodes_;
      free_nodes_ = n;
      if (--op->wait == 0) make_ready(op, self_q);
      if (v->write_running) return;
    }
  }

  // `self_q` is the completing worker's queue: it notifies for those itself.
  void make_ready(Op* op, Queue* self_q) {
    Queue* q = op->q;
    q->ready.push(op);
    if (q != self_q) wake(q);
  }

  // One notification per ready op, up to the number of sleepers not yet notified.
  static void wake(Queue* q) {
    while (q->ready.size() > q->signaled && q->idle > q->signaled) {
      ++q->signaled;
      q->cv.notify_one();
    }
  }

  template <class Pred>
  bool wait_until(std::unique_lock<std::mutex>& lk, int timeout_ms, Pred pred) {
    if (pred()) return true;
    ++waiters_;
    bool ok = done_cv_.wait_for(lk, std::chrono::milliseconds(timeout_ms), pred);
    --waiters_;
    return ok;
  }

  Op* next_op(Queue* q) {
    std::unique_lock<std::mutex> lk(mu_);
    while (q->ready.empty() && !stopping_) {
      ++q->idle;
      q->cv.wait(lk);
      --q->idle;
      // A spurious wakeup may consume another's count: that only costs an extra notify later.
      if (q->signaled) --q->signaled;
    }
    if (q->ready.empty()) return nullptr;
    Op* op = q->ready.top();
    q->ready.pop();
    return op;
  }

  void worker_main(Queue* q) {
    tls_in_op() = 1;
    // One thread state for the thread's lifetime: taking the GIL is then a plain restore.
    PyGILState_STATE gs = PyGILState_Ensure();
    PyThreadState* ts = PyEval_SaveThread();
    while (Op* op = next_op(q)) {
      PyEval_RestoreThread(ts);
      run_(owner_, q, op);
      ts = PyEval_SaveThread();
    }
    PyEval_RestoreThread(ts);
    PyGILState_Release(gs);
  }

  void launch(Queue* q) {
    for (int i = 0; i < q->nthreads; ++i) {
      q->threads.emplace_back([this, q] { worker_main(q); });
    }
  }

  static void reset_queue(Queue* q) {
    new (&q->cv) std::condition_variable();
    q->idle = q->signaled = 0;
  }

  void collect(Queue* q, std::vector<std::thread>* out) {
    q->cv.notify_all();
    for (auto& t : q->threads) out->push_back(std::move(t));
    q->threads.clear();
  }

  RunBatch run_;
  void* owner_;
  std::mutex mu_;
  std::condition_variable done_cv_;
  int waiters_ = 0;
  long pending_ = 0;
  long heavy_pending_ = 0;
  unsigned long long seq_ = 0;
  bool stopping_ = false;
  bool started_ = false;
  Queue cpu_;
  std::map<int, Queue*> gpus_;
  Node* free_nodes_ = nullptr;
  Op* free_ops_ = nullptr;
};

}  // namespace mxcy
