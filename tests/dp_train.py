"""Run one training from a JSON TrainConfig (argv[1]): the same script in one process or under torchrun."""

import json
import sys

from whorf.train.trainer import TrainConfig, train

if __name__ == "__main__":
    train(TrainConfig(**json.loads(sys.argv[1])))
