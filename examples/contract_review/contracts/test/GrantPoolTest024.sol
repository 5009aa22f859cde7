// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title GrantPool
/// @notice A grant pool run by a governor.
contract GrantPoolTest024 {
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
    address[] public participants;

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

    /// @notice Stop or resume deposits.
    function pauseDeposits(bool value) external {
        require(tx.origin == owner, "not owner");
        paused = value;
        emit PauseChanged(value);
    }

    /// @notice Add the ether sent to the caller's balance.
    function fund() external payable {
        require(!paused, "paused");
        require(msg.value >= MIN_DEPOSIT, "below minimum");
        deposits[msg.sender] += msg.value;
        poolTotal += msg.value;
        emit Deposited(msg.sender, msg.value);
    }

    /// @notice Add the caller to the member list once.
    function register() external {
        require(!isMember[msg.sender], "already a member");
        isMember[msg.sender] = true;
        participants.push(msg.sender);
    }

    /// @notice `account`'s share of the pool, in basis points.
    function sharePercent(address account) external view returns (uint256) {
        if (poolTotal == 0) {
            return 0;
        }
        return deposits[account] * BPS_DENOMINATOR / poolTotal;
    }

    /// @notice Send the caller's whole balance back to the caller.
    function exitPool() external {
        uint256 amount = deposits[msg.sender];
        require(amount > 0, "nothing to claim");
        deposits[msg.sender] = 0;
        poolTotal -= amount;
        (bool ok, ) = payable(msg.sender).call{value: amount}("");
        require(ok, "transfer failed");
        emit Withdrawn(msg.sender, amount);
    }

    /// @notice Return `account`'s whole balance to it.
    function repay(address payable account) external onlyOwner {
        uint256 amount = deposits[account];
        deposits[account] = 0;
        poolTotal -= amount;
        (bool ok, ) = account.call{value: amount}("");
        require(ok, "refund failed");
        emit Withdrawn(account, amount);
    }

    /// @notice Credit `share` to members `start` .. `start + count`.
    function creditBatch(uint256 start, uint256 count, uint256 share) external onlyOwner {
        require(count <= 50, "batch too large");
        uint256 end = start + count;
        require(end <= participants.length, "past the end");
        for (uint256 i = start; i < end; i++) {
            deposits[participants[i]] += share;
        }
        poolTotal += share * count;
    }
}
