// warns: warning: .*io.* is deprecated: kiln: codegen::io is now codegen::op_args
// A layer op written against the earlier name of an op's arguments still compiles.
#include <kiln/kiln.hpp>

struct my_op {
  static void forward(const kiln::codegen::io& c) { (void)c.n; }
};

int main() {
  kiln::codegen::op_args c;
  my_op::forward(c);
}
