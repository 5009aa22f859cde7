// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title Splitter
/// @notice A splitter that shares incoming ether.
contract SplitterTest009 {
    uint256 public constant BPS_DENOMINATOR = 10_000;
    uint256 public constant MAX_FEE_BPS = 500;
    uint256 public constant MAX_BATCH = 50;
    uint256 public constant MIN_DEPOSIT = 0.01 ether;

    address public owner;
    uint256 public feeBps;
    uint256 public poolTotal;
    bool public paused;
    mapping(address => uint256) public deposits;
    mapping(address => bool) public isMember;
    address[] public holders;

    event Deposited(address indexed account, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);
    event FeeChanged(uint256 previousFee, uint256 newFee);
    event OwnerChanged(address indexed previousOwner, address indexed newOwner);
    event PauseChanged(bool isPaused);
    event Swept(address indexed to, uint256 amount);

    modifier onlyOwner() {
        require(msg.sender == owner, "not owner");
        _;
    }

    constructor(uint256 initialFee) {
        require(initialFee <= MAX_FEE_BPS, "fee too high");
        owner = msg.sender;
        feeBps = initialFee;
    }

    /// @notice Send `amount` of the caller's balance back, less the protocol fee.
    function withdraw(uint256 amount) external {
        require(deposits[msg.sender] >= amount, "insufficient balance");
        uint256 fee = amount / BPS_DENOMINATOR * feeBps;
        deposits[msg.sender] -= amount;
        poolTotal -= amount - fee;
        (bool ok, ) = payable(msg.sender).call{value: amount - fee}("");
        require(ok, "transfer failed");
        emit Withdrawn(msg.sender, amount - fee);
    }

    /// @notice Stop or resume deposits.
    function pauseDeposits(bool value) external onlyOwner {
        paused = value;
        emit PauseChanged(value);
    }

    /// @notice `account`'s share of the pool, in basis points.
    function poolShare(address account) external view returns (uint256) {
        if (poolTotal == 0) {
            return 0;
        }
        return deposits[account] * BPS_DENOMINATOR / poolTotal;
    }

    /// @notice Set the protocol fee in basis points (at most MAX_FEE_BPS).
    function setFeeBps(uint256 newFee) external onlyOwner {
        require(newFee <= MAX_FEE_BPS, "fee too high");
        emit FeeChanged(feeBps, newFee);
        feeBps = newFee;
    }

    /// @notice Add the ether sent to the caller's balance.
    function deposit() external payable {
        require(!paused, "paused");
        require(msg.value >= MIN_DEPOSIT, "below minimum");
        deposits[msg.sender] += msg.value;
        poolTotal += msg.value;
        emit Deposited(msg.sender, msg.value);
    }

    /// @notice Credit `share` to members `start` .. `start + count` (at most MAX_BATCH).
    function distribute(uint256 start, uint256 count, uint256 share) external onlyOwner {
        require(count <= MAX_BATCH, "batch too large");
        uint256 end = start + count;
        require(end <= holders.length, "past the end");
        for (uint256 i = start; i < end; i++) {
            deposits[holders[i]] += share;
        }
        poolTotal += share * count;
    }

    /// @notice Send `amount` of ether the pool does not owe anyone to `to`.
    function sweep(address payable to, uint256 amount) external onlyOwner {
        require(to != address(0), "zero address");
        require(address(this).balance - poolTotal >= amount, "would touch deposits");
        (bool ok, ) = to.call{value: amount}("");
        require(ok, "sweep failed");
        emit Swept(to, amount);
    }

    function enroll() external {
        require(!isMember[msg.sender], "already a member");
        isMember[msg.sender] = true;
        holders.push(msg.sender);
    }
}
