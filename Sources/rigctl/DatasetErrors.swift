import DatasetBuilder

extension DatasetError: ClassifiedError {}
