// kiln-zoo's fmnist_mlp (samples/zoo_models.hpp).
#include <kiln/codegen/zoo.hpp>
#include <kiln/kiln.hpp>

#define KILN_ZOO_MODEL_TU
#include "zoo_models.hpp"

zoo_model zoo_fmnist_mlp() { return zoo_model_of<kiln::zoo::fmnist_mlp>(); }
