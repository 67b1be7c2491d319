#ifndef REEF_VERSION_H
#define REEF_VERSION_H
#define REEF_VERSION "0.1.0"
#endif
