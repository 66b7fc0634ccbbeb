// kiln-inspect FILE...: what kiln sees in a file (see inspect.hpp).
#include "kiln/runtime/app/inspect.hpp"

int main(int argc, char** argv) { return kiln::rt::inspect_main(argc, argv); }
