// Learning-rate schedules through the generated trainer's current_lr(), against the values
// PyTorch 1.13's schedulers give (SGD lr 0.1; computed with torch.optim.lr_scheduler, as noted
// per case), stepped as kiln steps them: per epoch, or per batch with the fractional epoch.
#define BOOST_TEST_MODULE layers_schedules
#include <boost/test/unit_test.hpp>

#include <kiln/kiln.hpp>

#include <cmath>
#include <vector>

using namespace kiln::dsl;

namespace {

constexpr auto tiny = input<2> | dense{.units = 1} | mse{};
const float x[2] = {1, 2}, target[1] = {0};
const kiln::rt::batch one{1, x, nullptr, target};

// The lr of every step of `epochs` epochs of `steps` steps; `metrics` (if any) is fed after each
// epoch as the test loss.
template <auto Plan>
std::vector<double> lrs(int epochs, int steps, const std::vector<double>& metrics = {}) {
  auto t = kiln::compile<tiny, Plan>();
  std::vector<double> out;
  for (int e = 0; e < epochs; ++e) {
    t.begin_epoch(e, steps);
    for (int i = 0; i < steps; ++i) {
      out.push_back(t.current_lr());
      t.train_step(one);
    }
    if (!metrics.empty()) t.end_epoch({0.5, 0.5, metrics[std::size_t(e)], 0.5});
  }
  return out;
}

// Learning rates in double: PyTorch reaches a value through at most 28 chained steps (its
// recursive forms) or a closed form, kiln through a closed form of a few operations (a cosine,
// a power, divisions), each rounding by at most 2^-53 relative; a cosine near -1 loses no more
// than the minimum it is added to brings back. 64 roundings of double.
constexpr double in_double = 64 * 0x1p-53;

void same(const std::vector<double>& got, const std::vector<double>& want) {
  BOOST_REQUIRE_EQUAL(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i)
    BOOST_TEST(got[i] == want[i], "step " << i << ": " << got[i] << " != " << want[i]
                                          << boost::test_tools::tolerance(in_double));
}

constexpr auto opt = sgd{.lr = 0.1};

}  // namespace

BOOST_AUTO_TEST_CASE(constant_and_step) {
  same(lrs<training_plan{.optimizer = opt}>(3, 1), {0.1, 0.1, 0.1});
  // StepLR(step_size=2, gamma=0.5)
  same(
      lrs<training_plan{.optimizer = opt, .lr = step_decay{.every_epochs = 2, .gamma = 0.5}}>(6, 1),
      {0.1, 0.1, 0.05, 0.05, 0.025, 0.025});
}

BOOST_AUTO_TEST_CASE(exponential) {
  // ExponentialLR(gamma=0.8)
  same(lrs<training_plan{.optimizer = opt, .lr = exponential_decay{.gamma = 0.8}}>(5, 1),
       {0.1, 0.08, 0.064, 0.0512, 0.04096});
}

BOOST_AUTO_TEST_CASE(one_over_t) {
  // LambdaLR(lambda t: 1 / (1 + 0.5 t))
  same(lrs<training_plan{.optimizer = opt, .lr = inverse_time{.k = 0.5}}>(5, 1),
       {0.1, 0.06666666666666667, 0.05, 0.04, 0.03333333333333333});
}

BOOST_AUTO_TEST_CASE(cosine_with_warm_restarts) {
  // CosineAnnealingWarmRestarts(T_0=2, T_mult=2, eta_min=0.01), step(epoch + i / 4) per batch
  same(lrs<training_plan{.optimizer = opt,
                         .lr = cosine_restarts{.period = 2, .mult = 2, .min_factor = 0.1}}>(7, 4),
       {0.1,
        0.0965745789630079,
        0.08681980515339464,
        0.07222075445642905,
        0.05500000000000001,
        0.03777924554357097,
        0.023180194846605363,
        0.013425421036992097,
        0.1,
        0.09913533761814537,
        0.0965745789630079,
        0.09241613255361454,
        0.08681980515339464,
        0.0800006604858821,
        0.07222075445642905,
        0.06377906449072579,
        0.05500000000000001,
        0.04622093550927424,
        0.03777924554357097,
        0.029999339514117915,
        0.023180194846605363,
        0.01758386744638546,
        0.013425421036992097,
        0.01086466238185463,
        0.1,
        0.09978331270024887,
        0.09913533761814537,
        0.0980623151079494});
  // CosineAnnealingWarmRestarts(T_0=3), step(epoch + i / 2)
  same(lrs<training_plan{.optimizer = opt, .lr = cosine_restarts{.period = 3}}>(4, 2),
       {0.1, 0.09330127018922195, 0.075, 0.05, 0.025000000000000012, 0.006698729810778065, 0.1,
        0.09330127018922195});
}

BOOST_AUTO_TEST_CASE(linear_warmup_alone_and_chained) {
  // LinearLR(start_factor=0.25, total_iters=6) stepped per batch
  same(lrs<training_plan{.optimizer = opt, .lr = linear_warmup{.steps = 6, .start = 0.25}}>(3, 4),
       {0.025, 0.0375, 0.05, 0.0625, 0.075, 0.0875, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1});
  // ChainedScheduler([LinearLR(start_factor=0.1, total_iters=3), ExponentialLR(0.5)]) per epoch
  constexpr auto chained = linear_warmup{.steps = 3, .start = 0.1, .then = exponential_decay{0.5}};
  same(lrs<training_plan{.optimizer = opt, .lr = chained}>(5, 1),
       {0.01, 0.02, 0.0175, 0.0125, 0.00625});
  // In epochs: one epoch of 4 steps.
  same(lrs<training_plan{.optimizer = opt, .lr = linear_warmup{.epochs = 1, .start = 0.2}}>(2, 4),
       {0.02, 0.04, 0.06, 0.08, 0.1, 0.1, 0.1, 0.1});
}

BOOST_AUTO_TEST_CASE(reduce_on_plateau_follows_the_metric) {
  // ReduceLROnPlateau(factor=0.5, patience=2, cooldown=1, min_lr=0.02), step(metric) per epoch
  const std::vector<double> metric = {1.0,  0.9,  0.95, 0.95, 0.95, 0.89,
                                      0.95, 0.95, 0.95, 0.95, 0.95, 0.95};
  constexpr auto plateau =
      reduce_on_plateau{.gamma = 0.5, .patience = 2, .cooldown = 1, .min_factor = 0.2};
  same(lrs<training_plan{.optimizer = opt, .lr = plateau}>(12, 1, metric),
       {0.1, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025});
  // Warmup in front of it forwards the metrics.
  constexpr auto warm = linear_warmup{.steps = 1, .start = 0.5, .then = plateau};
  same(lrs<training_plan{.optimizer = opt, .lr = warm}>(6, 1, metric),
       {0.05, 0.1, 0.1, 0.1, 0.1, 0.05});
}

BOOST_AUTO_TEST_CASE(reduce_on_plateau_can_watch_accuracy) {
  constexpr auto plateau =
      reduce_on_plateau{.gamma = 0.1, .patience = 0, .metric = monitor::test_accuracy};
  auto t = kiln::compile<tiny, training_plan{.optimizer = opt, .lr = plateau}>();
  t.end_epoch({1, 0, 1, 0.5});
  t.end_epoch({1, 0, 1, 0.6});  // better: rising
  BOOST_TEST(t.current_lr() == 0.1);
  t.end_epoch({1, 0, 1, 0.6});  // no better
  BOOST_TEST(t.current_lr() == 0.01, boost::test_tools::tolerance(in_double));
}

// A schedule that keeps state owns it (dsl/lr/schedules.hpp): its own state type, saved and
// loaded as numbers through one interface; the trainer holds and saves it without knowing which
// schedule it is, and a stateless schedule saves nothing.
static_assert(stateful_schedule<reduce_on_plateau>);
static_assert(stateful_schedule<linear_warmup<reduce_on_plateau>>);  // the state of its `then`
static_assert(!stateful_schedule<step_decay> && !stateful_schedule<constant_lr>);
static_assert(!stateful_schedule<linear_warmup<cosine_restarts>>);

BOOST_AUTO_TEST_CASE(a_schedules_state_goes_out_and_back_through_the_trainer) {
  constexpr auto plateau = reduce_on_plateau{.gamma = 0.5, .patience = 0};
  auto t = kiln::compile<tiny, training_plan{.optimizer = opt, .lr = plateau}>();
  t.end_epoch({1, 0, 1.0, 0});
  t.end_epoch({1, 0, 2.0, 0});  // worse: halves
  const kiln::rt::resume_state s = t.save_resume_state();
  BOOST_TEST(s.schedule.size() == plateau_state::values);
  auto back = kiln::compile<tiny, training_plan{.optimizer = opt, .lr = plateau}>();
  back.load_resume_state(s);
  BOOST_TEST(back.current_lr() == 0.05);
  back.end_epoch({1, 0, 2.0, 0});  // still worse than the best kept in the state: halves again
  t.end_epoch({1, 0, 2.0, 0});
  BOOST_TEST(back.current_lr() == t.current_lr());
  BOOST_TEST(back.current_lr() == 0.025);

  auto plain = kiln::compile<tiny, training_plan{.optimizer = opt, .lr = step_decay{}}>();
  BOOST_TEST(plain.save_resume_state().schedule.empty());
  try {
    plain.load_resume_state(s);  // five values for a schedule that keeps none
    BOOST_ERROR("no exception");
  } catch (const kiln::config_error& e) {
    BOOST_TEST(std::string(e.what()) == "resume state: step_decay keeps 0 values, got 5");
  }
}
