/*
 * gpubridge: GPU-native virtual actors. The umbrella header; include this
 * one, or the per-concept headers it lists.
 */
#ifndef GPUBRIDGE_H
#define GPUBRIDGE_H

#include "gpubridge/status.h"
#include "gpubridge/log.h"
#include "gpubridge/time.h"
#include "gpubridge/hash.h"
#include "gpubridge/clock.h"
#include "gpubridge/calibration.h"
#include "gpubridge/ptp.h"
#include "gpubridge/actor.h"
#include "gpubridge/message.h"
#include "gpubridge/ring.h"
#include "gpubridge/device.h"
#include "gpubridge/broker.h"
#include "gpubridge/kernel.h"
#include "gpubridge/pattern.h"
#include "gpubridge/pattern_device.h"
#include "gpubridge/version.h"
#include "gpubridge/temporal_graph.h"
#include "gpubridge/causal.h"

#endif
